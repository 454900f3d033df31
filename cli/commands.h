/* commands.h — one function per command; main.c dispatches. */
#ifndef METASIM_CLI_COMMANDS_H
#define METASIM_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);

#endif
