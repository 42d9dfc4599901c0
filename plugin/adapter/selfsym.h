/*
 * A function of the running program that it does not export, found in the
 * symbol table of its own binary (/proc/self/exe). Mosquitto built from its
 * release sources exports only the symbols of its linker.syms, but keeps a
 * full symbol table unless stripped. Plain C: no broker headers.
 */
#ifndef RCPT_SELFSYM_H
#define RCPT_SELFSYM_H

/* The address of the function `name` in the main program, or NULL when the
 * binary has no symbol table, no such function, or it does not lie in one
 * of the program's executable segments. */
void *rcpt_selfsym__find(const char *name);

#endif
