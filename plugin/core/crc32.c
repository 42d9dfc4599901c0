/*
 * CRC-32 (see the header), table-driven; the table is built once.
 */
#include <pthread.h>

#include "crc32.h"

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void make_crc_table(void)
{
	for(uint32_t i = 0; i < 256; i++){
		uint32_t c = i;
		for(int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t rcpt_crc32__update(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc_table_once, make_crc_table);
	const uint32_t *table = crc_table;
	const unsigned char *p = data;
	crc = ~crc;
	for(size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}
