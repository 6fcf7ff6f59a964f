#include "rng.h"

uint64_t sim_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng_t *r, uint64_t seed) {
  uint64_t st = seed;
  for (int i = 0; i < 4; i++) r->s[i] = sim_splitmix64(&st);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(sim_rng_t *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint32_t sim_rng_u32(sim_rng_t *r) { return (uint32_t)(sim_rng_next(r) >> 32); }

uint64_t sim_rng_below(sim_rng_t *r, uint64_t n) {
  if (n == 0) return 0;
  /* Rejection sampling keeps the distribution exactly uniform. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = sim_rng_next(r);
  } while (x >= limit);
  return x % n;
}

double sim_rng_double(sim_rng_t *r) { return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53; }

bool sim_rng_chance(sim_rng_t *r, double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return sim_rng_double(r) < p;
}
