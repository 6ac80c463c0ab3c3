/* isyncsf org select: pick one org (an inline picker on a terminal, else the single match). */
#ifndef ISF_CLI_SELECT_H
#define ISF_CLI_SELECT_H

#include "cli.h"

/* isyncsf org select [--filter TEXT] [--status S] [--mode M] [--env E] [--any]: prints the
 * chosen NAME on stdout (its org object with --json). Exit 0, 1 (cancelled, or several match
 * without a terminal), 2 (usage), 3 (nothing matches), or the library's code. */
int org_select(struct cli *cli, int argc, char **argv);

#endif
