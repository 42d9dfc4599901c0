/*
 * Fuzz target: option parsing and validation. The input is a sequence of
 * (key, value) strings; each is applied, then the whole is validated and
 * described, as the plugin does at start.
 */
#include "fuzz_host.h"
#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcpt_config cfg;
	if(rcpt_config__init(&cfg)) return 0;
	struct fuzz_input in = {data, size};
	char key[256], value[256], err[300], line[1024];
	while(in.left > 0){
		fuzz_input__string(&in, key, 255);
		fuzz_input__string(&in, value, 255);
		rcpt_config__set(&cfg, key, value, err, sizeof(err));
	}
	rcpt_config__validate(&cfg, err, sizeof(err));
	rcpt_config__describe(&cfg, line, sizeof(line));
	rcpt_config__is_control_user(&cfg, value);
	rcpt_config__free(&cfg);
	return 0;
}
