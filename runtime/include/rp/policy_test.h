/* rp/policy_test.h: the driver `rpx test` links with a policy's generated
 * code to run its `test` blocks against the generated decision function. */
#ifndef RP_POLICY_TEST_H
#define RP_POLICY_TEST_H

#include "rp/program.h"

/* Runs every test of prog, printing "ok N - name (file:line)" or
 * "not ok ..." with what differed, then "N passed, N failed". Returns 0 if
 * all passed, 1 otherwise. */
int rp_policy_test_run(const struct rp_program *prog);

#endif
