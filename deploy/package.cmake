# package.cmake - the two Debian packages (CPack's DEB generator), built by
# deploy/package.sh:
#
#   ozma-worker_VERSION_ARCH.deb   ozma-worker, its service and path units,
#                                  sysusers entry, /etc/ozma/worker.conf
#   ozma-server_VERSION_ARCH.deb   ozma-server, ozma-search/-split/-synth,
#                                  its service unit and sysusers entry
#
# Runtime dependencies come from dpkg-shlibdeps (the libraries the programs
# really link); the maintainer scripts in deploy/debian/PART/ create the
# service user and its directory, enable the worker's units, and on purge
# remove what they created.  Configure with -DCMAKE_INSTALL_PREFIX=/usr so
# the units name /usr/bin and /etc (install.cmake).
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL worker server)
set(CPACK_PACKAGE_NAME ozma)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Ozma maintainers <ozma@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_WORKER_PACKAGE_NAME ozma-worker)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME ozma-server)
# passwd: useradd/userdel where systemd-sysusers is absent
set(CPACK_DEBIAN_WORKER_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "passwd")
set(CPACK_COMPONENT_WORKER_DESCRIPTION
    "Ozma volunteer computing worker\nRuns radio-SETI signal searches for an Ozma project in the machine's idle\ntime, as a low-priority system service (ozma-worker.service).")
set(CPACK_COMPONENT_SERVER_DESCRIPTION
    "Ozma project scheduler\nThe HTTP scheduler of an Ozma project (ozma-server) and the recording tools\nozma-search, ozma-split and ozma-synth.")
foreach(part worker server)
  string(TOUPPER ${part} PART)
  set(extra)
  foreach(script postinst prerm postrm conffiles)
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/debian/${part}/${script})
      list(APPEND extra ${CMAKE_CURRENT_LIST_DIR}/debian/${part}/${script})
    endif()
  endforeach()
  set(CPACK_DEBIAN_${PART}_PACKAGE_CONTROL_EXTRA "${extra}")
endforeach()
include(CPack)
