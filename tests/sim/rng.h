/* The simulator's own PRNG: xoshiro256** seeded through splitmix64. Every
 * random choice of the simulated network (loss, jitter, corruption, attack
 * traffic) draws from one of these, so a run is a function of its seed and
 * independent of libc rand() and of the core's own randomness. */
#ifndef TOU_SIM_RNG_H
#define TOU_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_rng {
  uint64_t s[4];
} sim_rng_t;

/* splitmix64 step: also used to derive sub-seeds from one run seed. */
uint64_t sim_splitmix64(uint64_t *state);

void sim_rng_seed(sim_rng_t *r, uint64_t seed);
uint64_t sim_rng_next(sim_rng_t *r);
uint32_t sim_rng_u32(sim_rng_t *r);
/* Uniform in [0, n); n == 0 gives 0. */
uint64_t sim_rng_below(sim_rng_t *r, uint64_t n);
/* Uniform double in [0, 1). */
double sim_rng_double(sim_rng_t *r);
/* True with probability p (p <= 0 never draws, so adding a zero-probability
 * impairment does not shift the random stream of the others). */
bool sim_rng_chance(sim_rng_t *r, double p);

#endif
