/*
 * name.h - names people see: accounts' and teams' names.
 *
 * A name is shown to others on the web pages and in the API, and a team is
 * joined by its name, so a name must not pretend to be another.  Each is
 * normalised before it is stored: NFKC (fullwidth "Ｏｚｍａ" is "Ozma", a
 * ligature its letters, a decomposed "e" + U+0308 the one "ë"), every run
 * of spaces one U+0020, none at either end.  A name that holds what cannot
 * be seen or that changes how the rest is shown - a control, format (Cf:
 * zero-width characters, bidi embeddings, overrides and isolates, the BOM,
 * tags), default-ignorable (fillers, variation selectors), private-use,
 * unassigned or separator character - is refused, and so is one of spaces
 * only.  Team names are compared on their key: the normalised name case-
 * folded (Unicode full case folding, then NFKC), so "ozma team" and "OZMA
 * TEAM" are "Ozma Team".  Letters of other scripts that look alike
 * (Cyrillic "О" for Latin "O") are not folded: that needs UTS #39's
 * confusables data, which no Debian library ships in C.
 *
 * The Unicode data is libunistring's (NFKC with u8_normalize, case folding
 * with u8_casefold, categories and properties from unictype.h).
 */
#ifndef OZ_SCHED_NAME_H
#define OZ_SCHED_NAME_H

#include <stddef.h>

#include "text.h"

#define OZ_NAME_BYTES (OZ_TEXT_NAME_MAX * 4 + 1) /* a normalised name and its NUL */
#define OZ_NAME_KEY_BYTES 1024                   /* a key (case folding may triple) */

/* Normalises the name `in` into out (outlen bytes, OZ_NAME_BYTES will do).
 * OZ_SCHED_EINVAL with why naming the first refused character (as U+XXXX
 * and its name), or saying it is empty or only spaces, or longer than
 * OZ_TEXT_NAME_MAX characters once normalised; OZ_SCHED_ENOMEM. */
int oz_name_normalize(const char *in, char *out, size_t outlen, char *why, size_t whylen);

/* The key a normalised name is compared on, into out (outlen bytes,
 * OZ_NAME_KEY_BYTES will do).  OZ_SCHED_ELIMIT when it does not fit,
 * OZ_SCHED_ENOMEM. */
int oz_name_key(const char *name, char *out, size_t outlen);

#endif
