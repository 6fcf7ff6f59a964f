/* Runs LLVMFuzzerTestOneInput over every file in the directories (or files)
 * named on the command line, so a normal build checks the committed corpus.
 * Fails when an argument is missing or holds no input at all: an empty
 * corpus must not pass silently. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1u << 20)

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  static uint8_t buf[REPLAY_MAX_INPUT];
  size_t n = fread(buf, 1, sizeof buf, f);
  int err = ferror(f) || !feof(f);
  fclose(f);
  if (err) {
    fprintf(stderr, "replay: %s: read error or larger than %u bytes\n", path, REPLAY_MAX_INPUT);
    return -1;
  }
  /* A private copy of the exact size, so ASan sees reads past the end. */
  uint8_t *copy = malloc(n ? n : 1);
  if (copy == NULL) return -1;
  memcpy(copy, buf, n);
  LLVMFuzzerTestOneInput(copy, n);
  free(copy);
  return 0;
}

/* Returns the number of inputs run, or -1. */
static long run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return run_file(path) == 0 ? 1 : -1;
  DIR *d = opendir(path);
  if (d == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  long count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char full[4096];
    if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= (int)sizeof full) continue;
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (run_file(full) != 0) {
      count = -1;
      break;
    }
    count++;
  }
  closedir(d);
  return count;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s corpus-dir-or-file...\n", argv[0]);
    return 2;
  }
  long total = 0;
  for (int i = 1; i < argc; i++) {
    long n = run_path(argv[i]);
    if (n < 0) return 1;
    if (n == 0) {
      fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
      return 1;
    }
    total += n;
  }
  printf("replay: %ld inputs, no failure\n", total);
  return 0;
}
