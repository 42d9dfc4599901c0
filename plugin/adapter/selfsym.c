/*
 * Functions of the main program found in its own symbol table (see the
 * header). Read once at start; nothing here runs on a message's path.
 */
#define _GNU_SOURCE   /* dl_iterate_phdr */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "selfsym.h"

/* A symbol table larger than this is not a mosquitto binary's. */
#define MAX_TABLE (64u << 20)

static void *read_at(int fd, uint64_t offset, uint64_t size)
{
	if(size == 0 || size > MAX_TABLE) return NULL;
	char *buf = malloc(size);
	if(buf == NULL) return NULL;
	uint64_t done = 0;
	while(done < size){
		ssize_t n = pread(fd, buf + done, size - done, (off_t)(offset + done));
		if(n <= 0){
			free(buf);
			return NULL;
		}
		done += (uint64_t)n;
	}
	return buf;
}

/* The offset (from the load base) of the function's code, or 0. */
static uint64_t find_value(int fd, const char *name)
{
	Elf64_Ehdr eh;
	if(pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh)) return 0;
	if(memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64
			|| eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0) return 0;
	Elf64_Shdr *sh = read_at(fd, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr));
	if(sh == NULL) return 0;
	uint64_t value = 0;
	for(unsigned i = 0; i < eh.e_shnum && value == 0; i++){
		if(sh[i].sh_type != SHT_SYMTAB || sh[i].sh_entsize != sizeof(Elf64_Sym)
				|| sh[i].sh_link >= eh.e_shnum) continue;
		const Elf64_Shdr *strsh = &sh[sh[i].sh_link];
		Elf64_Sym *syms = read_at(fd, sh[i].sh_offset, sh[i].sh_size);
		char *strs = read_at(fd, strsh->sh_offset, strsh->sh_size);
		size_t count = syms ? sh[i].sh_size / sizeof(Elf64_Sym) : 0;
		for(size_t k = 0; strs && k < count; k++){
			const Elf64_Sym *s = &syms[k];
			if(ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF || s->st_value == 0) continue;
			if(s->st_name >= strsh->sh_size) continue;
			const char *n = strs + s->st_name;
			if(memchr(n, '\0', strsh->sh_size - s->st_name) && !strcmp(n, name)){
				value = s->st_value;
				break;
			}
		}
		free(syms);
		free(strs);
	}
	free(sh);
	return value;
}

struct main_program {
	uint64_t value;     /* in: the symbol's value */
	void *address;      /* out: where it is, if inside an executable segment */
	bool seen;
};

/* The first object dl_iterate_phdr reports is the main program. */
static int locate(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct main_program *m = data;
	if(m->seen) return 1;
	m->seen = true;
	for(int i = 0; i < info->dlpi_phnum; i++){
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if(ph->p_type == PT_LOAD && (ph->p_flags & PF_X)
				&& m->value >= ph->p_vaddr && m->value < ph->p_vaddr + ph->p_memsz){
			m->address = (void *)(uintptr_t)(info->dlpi_addr + m->value);
			break;
		}
	}
	return 1;
}

void *rcpt_selfsym__find(const char *name)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if(fd < 0) return NULL;
	struct main_program m = {.value = find_value(fd, name)};
	close(fd);
	if(m.value == 0) return NULL;
	dl_iterate_phdr(locate, &m);
	return m.address;
}
