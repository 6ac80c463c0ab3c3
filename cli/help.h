/* isyncsf help: every command's help text, kept in one table (help.c) so that `isyncsf help X`
 * and `isyncsf X --help` print the same text; and the commands that live outside cmd_org.c. */
#ifndef ISF_CLI_HELP_H
#define ISF_CLI_HELP_H

#include "cli.h"

/* The help text of a command path ("" for the top level, "org", "org add", ...), or NULL. */
const char *help_text(const char *path);
/* The longest command path that starts the given words (e.g. "org add" for org add acme), and
 * its text; NULL when even the first word is not a command. */
const char *help_for_words(int argc, char **argv);
/* isyncsf help [COMMAND...] */
int cmd_help(struct cli *cli, int argc, char **argv);

/* isyncsf org test NAME... | --all (cmd_test.c); argv after "test". */
int cmd_org_test(struct cli *cli, int argc, char **argv);
/* isyncsf refresh [NAME...|--all] (cmd_refresh.c); argv after "refresh". */
int cmd_refresh(struct cli *cli, int argc, char **argv);
/* isyncsf daemon [--once] (cmd_daemon.c); argv after "daemon". */
int cmd_daemon(struct cli *cli, int argc, char **argv);
/* isyncsf org names (hidden, for shell completion): one org name a line (cmd_misc.c). */
int cmd_org_names(struct cli *cli, int argc, char **argv);
/* The options cli_open uses, for a worker thread that opens its own context (main.c). */
void cli_open_options(const struct cli *cli, struct isf_open_options *o);

#endif
