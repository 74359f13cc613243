# install.cmake - `cmake --install` rules for deploy/: the systemd units of
# the worker and the scheduler, their sysusers.d entries and the worker's
# default preferences.  Included from the root CMakeLists.txt (the programs
# install themselves from their own folders).  Every rule names its
# component, `worker` or `server`: the two Debian packages (package.cmake).
#
#   PREFIX/lib/systemd/system/ozma-worker.service, ozma-worker.path   (worker)
#   PREFIX/lib/systemd/system/ozma-server.service                     (server)
#   PREFIX/lib/sysusers.d/ozma-worker.conf, ozma-server.conf
#   SYSCONFDIR/ozma/worker.conf      (/usr/local/etc/ozma, or /etc/ozma for /usr)
#
# The units in deploy/ name /usr/local paths (the default prefix); the
# installed copies name the real ones.
include(GNUInstallDirs)
set(OZ_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "where systemd units are installed, relative to the prefix or absolute")
set(OZ_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "where sysusers.d files are installed, relative to the prefix or absolute")

foreach(unit ozma-worker.service ozma-worker.path ozma-server.service)
  string(REGEX MATCH "^ozma-(worker|server)" part "${unit}")
  file(READ ${CMAKE_CURRENT_LIST_DIR}/${unit} text)
  string(REPLACE "/usr/local/bin" "${CMAKE_INSTALL_FULL_BINDIR}" text "${text}")
  string(REPLACE "/usr/local/etc" "${CMAKE_INSTALL_FULL_SYSCONFDIR}" text "${text}")
  file(WRITE ${CMAKE_BINARY_DIR}/deploy/${unit} "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/deploy/${unit} DESTINATION ${OZ_SYSTEMD_UNIT_DIR}
          COMPONENT ${CMAKE_MATCH_1})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${CMAKE_CURRENT_LIST_DIR}/${unit})
endforeach()
foreach(part worker server)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/ozma-${part}.sysusers DESTINATION ${OZ_SYSUSERS_DIR}
          RENAME ozma-${part}.conf COMPONENT ${part})
endforeach()
# absolute: for the /usr prefix GNUInstallDirs puts the configuration in
# /etc, not /usr/etc
install(FILES ${CMAKE_CURRENT_LIST_DIR}/worker.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ozma COMPONENT worker)
