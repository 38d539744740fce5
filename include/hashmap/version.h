/**
 * @file hashmap/version.h
 * @brief The libhashmap version: of the headers (macros) and of the library
 * a program runs with (hm_version(), hm_version_string()).
 *
 * The two differ when a program compiled against one release runs with the
 * shared library of another release of the same ABI (the same SONAME,
 * libhashmap.so.MAJOR). The version follows the CMake project version; a test
 * checks that they agree.
 */
#ifndef HASHMAP_VERSION_H
#define HASHMAP_VERSION_H

#include "hashmap/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Major version: changes with incompatible API changes. */
#define HM_VERSION_MAJOR 0
/** @brief Minor version: changes with additions to the API. */
#define HM_VERSION_MINOR 1
/** @brief Patch version: changes with fixes only. */
#define HM_VERSION_PATCH 0

/**
 * @brief The version as one number, major * 10000 + minor * 100 + patch, so
 * that `#if HM_VERSION_NUMBER >= 100` means "0.1.0 or later".
 */
#define HM_VERSION_NUMBER \
    (HM_VERSION_MAJOR * 10000 + HM_VERSION_MINOR * 100 + HM_VERSION_PATCH)

/** @cond HM_INTERNAL */
/* Two levels so that the arguments are expanded before they are quoted. */
#define HM__QUOTE(x) #x
#define HM__VERSION_STR(a, b, c) HM__QUOTE(a) "." HM__QUOTE(b) "." HM__QUOTE(c)
/** @endcond */

/** @brief The version as a string, "major.minor.patch". */
#define HM_VERSION_STRING \
    HM__VERSION_STR(HM_VERSION_MAJOR, HM_VERSION_MINOR, HM_VERSION_PATCH)

/**
 * @brief The version of the library the program runs with, as
 * HM_VERSION_NUMBER encodes it.
 * @return major * 10000 + minor * 100 + patch; this function cannot fail.
 */
HM_API unsigned hm_version(void);

/**
 * @brief The version of the library the program runs with, as
 * HM_VERSION_STRING spells it.
 * @return a static string "major.minor.patch"; never NULL.
 */
HM_API const char *hm_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* HASHMAP_VERSION_H */
