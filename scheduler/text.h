/*
 * text.h - the rule for strings that come from users.
 *
 * Names, emails, team names, operating systems and error messages arrive
 * from strangers and end up in logs, the database and web pages.  API.md
 * allows 1..64 UTF-8 characters (messages: up to 1000) and no control
 * characters; everything else is refused (400) rather than cleaned.  Names
 * people see (accounts', teams') pass name.h's stricter rule after this
 * one and are stored normalised; other strings are stored as sent.
 */
#ifndef OZ_SCHED_TEXT_H
#define OZ_SCHED_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define OZ_TEXT_NAME_MAX 64      /* characters of a name, email, os */
#define OZ_TEXT_MESSAGE_MAX 1000 /* characters of an error message */

/* Is s valid UTF-8 of 1..max_chars characters (code points), with no C0
 * control, DEL, or C1 control (U+0080..U+009F)?  Overlong encodings,
 * surrogates and code points past U+10FFFF are invalid. */
bool oz_text_valid(const char *s, size_t max_chars);

#endif
