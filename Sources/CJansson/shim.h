#ifndef NETPLUG_CJANSSON_SHIM_H
#define NETPLUG_CJANSSON_SHIM_H
#include <jansson.h>

/* json_typeof and friends are macros, which Swift cannot call. */
static inline int netplug_json_type(const json_t *value) { return (int)json_typeof(value); }

/* Flag constants arrive in Swift as Int32; these keep the size_t conversions in one place. */
static inline size_t netplug_json_load_flags(void) { return JSON_REJECT_DUPLICATES | JSON_DECODE_ANY; }
static inline size_t netplug_json_dump_flags(void) { return JSON_COMPACT | JSON_ENCODE_ANY; }

/* jansson's error text is a fixed C array; hand Swift a pointer to it. */
static inline const char *netplug_json_error_text(const json_error_t *error) { return error->text; }
#endif
