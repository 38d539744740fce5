/* The library's own version, compiled in, so that a program can tell which
 * release of libhashmap.so it was loaded with (the header macros tell which
 * one it was compiled against). */
#include "hashmap/version.h"

unsigned hm_version(void)
{
    return HM_VERSION_NUMBER;
}

const char *hm_version_string(void)
{
    return HM_VERSION_STRING;
}
