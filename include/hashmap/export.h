/**
 * @file hashmap/export.h
 * @brief HM_API, the mark on every function libhashmap exports.
 *
 * The shared library is built with hidden visibility; only declarations that
 * carry HM_API are exported from it.
 */
#ifndef HASHMAP_EXPORT_H
#define HASHMAP_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** Marks a public function as exported from libhashmap.so. */
#define HM_API __attribute__((visibility("default")))
#else
#define HM_API
#endif

#endif /* HASHMAP_EXPORT_H */
