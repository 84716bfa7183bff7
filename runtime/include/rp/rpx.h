/* rpx.h: the one header generated code includes. It brings the program
 * descriptor and decision types (program.h), the matchers the decision
 * calls (match.h) and the parsed-request types they read (http1.h); the
 * runtime's other headers are its own. */
#ifndef RP_RPX_H
#define RP_RPX_H

#include "rp/http1.h"
#include "rp/match.h"
#include "rp/program.h"

#endif
