/* Deliberately broken export list for the abi_exports_catches_* tests. */
int tou_abi_present(int x);
int abi_leaked_symbol(int x);

int tou_abi_present(int x) { return x + 1; }
int abi_leaked_symbol(int x) { return x - 1; }
