// libpq, the PostgreSQL client library (Debian libpq-dev), for the runner's Postgres store.
#ifndef WAYMARK_CLIBPQ_SHIM_H
#define WAYMARK_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
