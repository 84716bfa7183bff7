/* reason.h: reason phrases for the status codes the proxy writes itself. */
#ifndef RP_REASON_H
#define RP_REASON_H

/* Returns the RFC 9110 reason phrase of `status`, or "Unknown". */
const char *rp_reason(int status);

#endif
