/* Header for abi_exports_catches_missing: one exported function, one missing,
 * plus forms the checker must not count as functions. */
#ifndef BAD_HEADER_H
#define BAD_HEADER_H
typedef void (*tou_abi_cb)(int status); /* a callback type, not a function */
#define tou_abi_macro(x) ((x) + 1)
int tou_abi_present(int x); /* exported */
/* tou_abi_in_comment(int) is not a declaration */
int tou_abi_missing(
    int x);
const char *tou_abi_missing_ptr(void); /* pointer return: still a function */
typedef struct { void (* tou_abi_member)(void); } tou_abi_struct_t;
#endif
