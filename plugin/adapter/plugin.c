/*
 * The adapter's entry points and callbacks: with props.c (property lists),
 * the only code that talks to the broker. It registers the callbacks, turns
 * events into plain values for the core, and applies the core's decisions
 * to the broker's messages.
 */
#define _GNU_SOURCE   /* dladdr, RTLD_DEFAULT */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "bridges.h"
#include "brokerconf.h"
#include "core.h"
#include "network.h"
#include "props.h"
#include "receipts.h"
#include "selfsym.h"

/* The broker's whole access check (src/security.c), plugins, acl_file and
 * v2-v4 auth plugins in order. Debian's binary exports it; a build limited
 * to src/linker.syms does not, but keeps it in its symbol table unless
 * stripped. Its signature is the same in every 2.0 release. */
typedef int (*broker_acl_check_fn)(struct mosquitto *context, const char *topic, uint32_t payloadlen,
		void *payload, uint8_t qos, bool retain, int access);

struct plugin {
	mosquitto_plugin_id_t *id;
	struct rcpt_core *core;
	int fallback_rc;        /* a topic not ours: allow, or let the others decide */
	int dollar_rc;          /* a $ topic not ours: allow only where the broker alone would */
	bool others;            /* other access control decides topics not ours */
	broker_acl_check_fn broker_acl_check;   /* NULL: not exported */
	bool asking;            /* inside broker_acl_check: our own check stands aside */
	/* The last connection whose CONNECT the plugin saw and that has not
	 * acted since: a DISCONNECT of it is a refused CONNECT (2.0.15 on fire
	 * one) or a connection that never did anything; neither ends a session
	 * the core knows. */
	const struct mosquitto *connecting;
	bool login_check;       /* MOSQ_EVT_BASIC_AUTH registered (on_basic_auth) */
	/* No other component checks logins: this broker's configuration, read
	 * in full, has no password_file, auth_plugin or other plugin. */
	bool logins_unchecked;
	bool allow_anonymous;   /* its allow_anonymous, when logins_unchecked */
};

/* ---- the host the core calls ---- */

static uint64_t host_now_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int host_publish(void *ctx, const struct rcpt_receipt_out *r)
{
	(void)ctx;
	mosquitto_property *props = NULL;
	if(rcpt_props__receipt(r, &props)) return RCPT_ERR_NOMEM;
	/* The broker owns props only on success. */
	if(mosquitto_broker_publish(NULL, r->topic, 0, NULL, r->qos, false, props) != MOSQ_ERR_SUCCESS){
		mosquitto_property_free_all(&props);
		return RCPT_ERR_NOMEM;
	}
	return RCPT_OK;
}

static int host_publish_plain(void *ctx, const char *to_client, const char *topic,
		const char *payload, size_t len, bool retain)
{
	(void)ctx;
	if(len > INT32_MAX) return RCPT_ERR_INVAL;
	return mosquitto_broker_publish_copy(to_client, topic, (int)len, payload, 0, retain, NULL) == MOSQ_ERR_SUCCESS
		? RCPT_OK : RCPT_ERR_NOMEM;
}

static enum rcpt_others host_ask_others(void *ctx, const void *client, const char *topic,
		enum rcpt_others_access access)
{
	struct plugin *plg = ctx;
	if(!plg->others) return RCPT_OTHERS_NONE;
	if(plg->broker_acl_check == NULL || plg->asking) return RCPT_OTHERS_UNKNOWN;
	/* Our callback defers while this runs, so the answer is the other
	 * sources' alone; everything deferring is a denial, as for any client. */
	plg->asking = true;
	int rc = plg->broker_acl_check((struct mosquitto *)client, topic, 0, NULL, 0, false,
			access == RCPT_OTHERS_READ ? MOSQ_ACL_READ : MOSQ_ACL_WRITE);
	plg->asking = false;
	return rc == MOSQ_ERR_SUCCESS ? RCPT_OTHERS_ALLOW : RCPT_OTHERS_DENY;
}

static const struct rcpt_host broker_host = {
	.ctx = NULL,
	.now_ms = host_now_ms,
	.publish = host_publish,
	.publish_plain = host_publish_plain,
	.log_printf = mosquitto_log_printf,
	.log_levels = {
		[RCPT_LOG_DEBUG] = MOSQ_LOG_DEBUG,
		[RCPT_LOG_INFO] = MOSQ_LOG_INFO,
		[RCPT_LOG_NOTICE] = MOSQ_LOG_NOTICE,
		[RCPT_LOG_WARNING] = MOSQ_LOG_WARNING,
		[RCPT_LOG_ERR] = MOSQ_LOG_ERR,
	},
	.ask_others = host_ask_others,
};

/* ---- events ---- */

static int access_rc(const struct plugin *plg, enum rcpt_access a, const char *topic)
{
	switch(a){
		case RCPT_ACCESS_ALLOW: return MOSQ_ERR_SUCCESS;
		case RCPT_ACCESS_DENY: return MOSQ_ERR_ACL_DENIED;
		default: return topic[0] == '$' ? plg->dollar_rc : plg->fallback_rc;
	}
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *plg = userdata;
	struct mosquitto_evt_acl_check *ev = event_data;
	if(plg->asking || ev->topic == NULL) return MOSQ_ERR_PLUGIN_DEFER;
	struct rcpt_client_ref who = {
		.id = mosquitto_client_id(ev->client),
		.username = mosquitto_client_username(ev->client),
		.clean = mosquitto_client_clean_session(ev->client),
		.handle = ev->client,
	};
	if(ev->client == plg->connecting) plg->connecting = NULL;
	if(who.id == NULL) return access_rc(plg, RCPT_ACCESS_FALLBACK, ev->topic);

	switch(ev->access){
		case MOSQ_ACL_READ:
			/* The topic pointer is the stored message's: it names the
			 * message across the READ checks of one delivery. */
			return access_rc(plg, rcpt_core__on_read(plg->core, ev->topic, ev->topic, ev->retain, &who), ev->topic);
		case MOSQ_ACL_WRITE:
			return access_rc(plg, rcpt_core__on_write(plg->core, ev->topic, &who), ev->topic);
		case MOSQ_ACL_SUBSCRIBE:
			return access_rc(plg, rcpt_core__on_subscribe(plg->core, ev->topic, &who), ev->topic);
		default:
			return access_rc(plg, RCPT_ACCESS_FALLBACK, ev->topic);
	}
}

static int apply_request(struct plugin *plg, struct mosquitto_evt_message *ev, const struct rcpt_decision *d)
{
	if(d->new_topic){
		/* Rewritten in its own bytes, never replaced: who frees a replaced
		 * topic differs between releases (props.h). The core re-routes only
		 * into a topic no longer than the one sent. */
		size_t len = strlen(d->new_topic);
		if(len > strlen(ev->topic)) goto refuse;
		if(rcpt_props__apply_request(&ev->properties, d)) goto refuse;
		memcpy(ev->topic, d->new_topic, len + 1);
	}else if(rcpt_props__apply_request(&ev->properties, d)){
		goto refuse;
	}
	rcpt_core__request_stored(plg->core, d->pending, ev->topic, ev->topic);
	return MOSQ_ERR_SUCCESS;
refuse:
	rcpt_core__request_abort(plg->core, d->pending);
	mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: out of memory rewriting a request from '%s'; refused",
			mosquitto_client_id(ev->client));
	return MOSQ_ERR_ACL_DENIED;
}

static int apply_receipt(struct plugin *plg, struct mosquitto_evt_message *ev, const struct rcpt_decision *d)
{
	/* Back through this broker: its "@name" level comes out of the topic,
	 * in the topic's own bytes (the result is shorter). */
	if(d->new_topic && strlen(d->new_topic) <= strlen(ev->topic)){
		memmove(ev->topic, d->new_topic, strlen(d->new_topic) + 1);
	}
	if(rcpt_props__apply_receipt(&ev->properties, d->restore_correlation)){
		/* The request is already answered; forward the receipt as sent
		 * rather than lose it. */
		mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: out of memory marking a receipt from '%s'",
				mosquitto_client_id(ev->client));
	}
	/* A receipt is for the request in flight, not for later subscribers. */
	ev->retain = false;
	rcpt_core__answer_stored(plg->core, d, ev->topic, ev->topic);
	return MOSQ_ERR_SUCCESS;
}

static int on_message(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *plg = userdata;
	struct mosquitto_evt_message *ev = event_data;
	struct rcpt_props_scan scan;

	if(ev->client == plg->connecting) plg->connecting = NULL;
	rcpt_core__settle(plg->core);
	rcpt_props__scan(ev->properties, &scan);
	if(!rcpt_core__may_concern(plg->core, ev->topic, scan.has_response_topic,
				scan.has_user_properties, scan.has_correlation)){
		return MOSQ_ERR_SUCCESS;
	}
	struct rcpt_publish msg = {
		.sender = {
			.id = mosquitto_client_id(ev->client),
			.username = mosquitto_client_username(ev->client),
			.clean = mosquitto_client_clean_session(ev->client),
			.handle = ev->client,
		},
		.topic = ev->topic,
		.qos = ev->qos,
		.retain = ev->retain,
		.payload = {ev->payload, ev->payloadlen},
	};
	if(msg.sender.id == NULL) return MOSQ_ERR_SUCCESS;
	rcpt_props__read(ev->properties, &msg);

	struct rcpt_decision d;
	rcpt_core__on_publish(plg->core, &msg, &d);
	switch(d.action){
		case RCPT_PASS: return MOSQ_ERR_SUCCESS;
		case RCPT_REFUSE: return MOSQ_ERR_ACL_DENIED;
		case RCPT_REQUEST: return apply_request(plg, ev, &d);
		case RCPT_RECEIPT: return apply_receipt(plg, ev, &d);
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_control(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *plg = userdata;
	struct mosquitto_evt_control *ev = event_data;
	const char *id = mosquitto_client_id(ev->client);
	/* The WRITE check has already kept out everyone but control users. */
	if(id) rcpt_core__on_control(plg->core, id, ev->payload, ev->payloadlen);
	return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *plg = userdata;
	struct mosquitto_evt_disconnect *ev = event_data;
	if(ev->client == plg->connecting){
		/* Nor is a will announced: a refused CONNECT sends none, and the
		 * holder's next publish must not be taken for one. The will of a
		 * client that left at once is still refused at its READ checks. */
		plg->connecting = NULL;
		return MOSQ_ERR_SUCCESS;
	}
	rcpt_core__on_disconnect(plg->core, mosquitto_client_id(ev->client),
			mosquitto_client_username(ev->client), mosquitto_client_clean_session(ev->client));
	return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	struct plugin *plg = userdata;
	rcpt_core__on_tick(plg->core);
	return MOSQ_ERR_SUCCESS;
}

/* The plugin's one login check, for client id binding and for the
 * network's links alike. It runs before the password check, so it may
 * refuse, never bind (the core binds when the client first acts,
 * authenticated by then): an id bound to another user, this broker's own
 * bridge's id, a peer's id used by anyone but that peer (rcpt_core__on_connect).
 * Everything else is the broker's own checks' to decide, by deferring.
 * Where there are none, Mosquitto 2.0 refuses every client with a username
 * when all login callbacks defer, so it then answers what the broker
 * answers with no callback at all: allow_anonymous. */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *plg = userdata;
	struct mosquitto_evt_basic_auth *ev = event_data;
	const char *id = mosquitto_client_id(ev->client);
	if(id){
		plg->connecting = ev->client;
		if(!rcpt_core__on_connect(plg->core, id, ev->username)) return MOSQ_ERR_AUTH;
	}
	if(!plg->logins_unchecked) return MOSQ_ERR_PLUGIN_DEFER;
	return plg->allow_anonymous ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH;
}

static const struct {
	int event;
	MOSQ_FUNC_generic_callback cb;
	const char *data;
} callbacks[] = {
	{MOSQ_EVT_ACL_CHECK, on_acl_check, NULL},
	{MOSQ_EVT_MESSAGE, on_message, NULL},
	{MOSQ_EVT_DISCONNECT, on_disconnect, NULL},
	{MOSQ_EVT_TICK, on_tick, NULL},
	{MOSQ_EVT_CONTROL, on_control, RECEIPTS_CONTROL_TOPIC},
};

#define CALLBACK_COUNT (sizeof(callbacks) / sizeof(callbacks[0]))

static void unregister(struct plugin *plg, size_t count)
{
	for(size_t i = 0; i < count; i++){
		mosquitto_callback_unregister(plg->id, callbacks[i].event, callbacks[i].cb, callbacks[i].data);
	}
}


static bool cfg_has_control_users(const struct rcpt_core *core)
{
	return rcpt_core__config(core)->control_users != NULL;
}

/* ---- who else decides access ---- */

/* Reads the broker's configuration file (mosquitto -c FILE), once per
 * initialisation of this plugin. */
static void read_broker_conf(struct rcpt_brokerconf *bc)
{
	char conf[PATH_MAX];
	Dl_info self;
	const char *our_path = dladdr((void *)read_broker_conf, &self) && self.dli_fname ? self.dli_fname : NULL;
	/* Each listener with per_listener_settings initialises the plugin anew,
	 * in a known order: the count tells which one this is. */
	static unsigned instances;
	if(rcpt_brokerconf__cmdline_config(conf, sizeof(conf))){
		rcpt_brokerconf__scan(conf, our_path, instances++, bc);
	}else{
		memset(bc, 0, sizeof(*bc));
		snprintf(bc->detail, sizeof(bc->detail), "the broker was started without -c FILE");
	}
}

/* The `auto` options that depend on whether the broker authenticates
 * clients (bind_client_ids, max_pending_anonymous). A configuration it
 * cannot read is said once: they are then settled as for a broker without
 * authentication. */
static void resolve_auth(struct rcpt_config *cfg, const struct rcpt_brokerconf *bc)
{
	bool any_auto = cfg->bind_client_ids == RCPT_BIND_AUTO || cfg->max_pending_anonymous == RCPT_ANONYMOUS_AUTO;
	if(!bc->known && any_auto){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: cannot tell whether clients authenticate (%s): "
				"with auto, client ids are not bound and clients without a username share no budget "
				"(with authentication set plugin_opt_bind_client_ids true and "
				"plugin_opt_max_pending_anonymous %u)", bc->detail, RCPT_ANONYMOUS_AUTO_BUDGET);
	}
	rcpt_config__resolve_auth(cfg, bc->known && bc->authenticates);
}

/* Works out, from the broker's configuration, whether other access control
 * decides topics this plugin does not govern, and sets the answers for
 * those topics. Explains the outcome in the start-up log: line receives the
 * decision, warnings go out at once. */
static void resolve_fallback(struct plugin *plg, enum rcpt_acl_fallback configured,
		const struct rcpt_brokerconf *bc, char *line, size_t size)
{
	bool sole = bc->known && !bc->other_access;
	bool allow = configured == RCPT_FALLBACK_ALLOW || (configured == RCPT_FALLBACK_AUTO && sole);

	plg->others = !allow;
	plg->fallback_rc = allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	/* With no ACL source at all the broker allows $ topics (bar its own
	 * $SYS and $share rules, checked before any plugin); with one it is for
	 * that source to say. Never "allow" one we do not own otherwise. */
	plg->dollar_rc = allow && sole ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	plg->broker_acl_check = (broker_acl_check_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "mosquitto_acl_check");
	if(plg->broker_acl_check == NULL && plg->others){
		plg->broker_acl_check = (broker_acl_check_fn)(uintptr_t)rcpt_selfsym__find("mosquitto_acl_check");
	}

	snprintf(line, size, "topics not ours: %s (%s%s)", allow ? "allowed" : "left to the other access control",
			configured == RCPT_FALLBACK_AUTO ? "acl_fallback auto: " : "acl_fallback set: ", bc->detail);
	if(configured == RCPT_FALLBACK_AUTO && !bc->known){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: cannot tell whether other access control is "
				"configured (%s), so topics not ours are left to it; if this plugin is the broker's only "
				"access control set plugin_opt_acl_fallback allow, else defer", bc->detail);
	}
	if(configured == RCPT_FALLBACK_ALLOW && bc->other_access){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: plugin_opt_acl_fallback allow, but %s: this "
				"plugin's \"allow\" overrides it for every topic not ours; use auto or defer", bc->detail);
	}
	if(bc->plugin_before_us){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: plugin %s is loaded before this one: the first "
				"plugin that does not defer decides, so it may decide on return areas and the control API "
				"first; load this plugin first", bc->first_other_plugin);
	}
	if(plg->others && plg->broker_acl_check == NULL){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: this broker does not export mosquitto_acl_check "
				"(nor has it in a symbol table): "
				"requests re-routed by subject-area and open return topics are refused, and a request "
				"counts as delivered to every subscriber the broker queues it for");
	}
}

/* ---- entry points ---- */

/* Everything else in the plugin is hidden: only these three are the broker's. */
#define RCPT_EXPORT __attribute__((visibility("default")))

RCPT_EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

static int configure(struct rcpt_config *cfg, struct mosquitto_opt *opts, int opt_count)
{
	char err[300];
	if(rcpt_config__init(cfg)) return MOSQ_ERR_NOMEM;
	for(int i = 0; i < opt_count; i++){
		if(rcpt_config__set(cfg, opts[i].key, opts[i].value, err, sizeof(err))) goto invalid;
	}
	if(rcpt_config__validate(cfg, err, sizeof(err))) goto invalid;
	return MOSQ_ERR_SUCCESS;
invalid:
	mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: %s", err);
	rcpt_config__free(cfg);
	return MOSQ_ERR_INVAL;
}

/* The network: this broker's own bridges become its uplinks. Peers are
 * trusted by username, so only where logins are checked. */
static int discover_network(struct plugin *plg, struct rcpt_config *cfg)
{
	char conf[PATH_MAX];
	struct rcpt_bridges_found found;
	memset(&found, 0, sizeof(found));
	bool read = rcpt_brokerconf__cmdline_config(conf, sizeof(conf))
		&& rcpt_bridges__discover(conf, &cfg->network, &found);
	if(!read && rcpt_netconf__active(&cfg->network)){
		mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: plugin_opt_%s is set, but this broker's bridges cannot be "
				"read from its configuration (%s)", RECEIPTS_OPT_BROKER_NAME,
				found.why[0] ? found.why : "the broker was started without -c FILE");
		return MOSQ_ERR_INVAL;
	}
	if(cfg->network.peers && !found.authenticates){
		mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: plugin_opt_%s trusts usernames, but this broker checks no "
				"passwords (no password_file, auth_plugin or auth plugin): a client could pose as a peer broker",
				RECEIPTS_OPT_PEERS);
		return MOSQ_ERR_INVAL;
	}
	if(!rcpt_netconf__active(&cfg->network) && found.connections > 0){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: this broker has bridges but no plugin_opt_%s: "
				"requests are not tracked across them, and return areas are not private on them",
				RECEIPTS_OPT_BROKER_NAME);
	}
	/* Only a configuration read in full may say that nothing else checks
	 * logins: otherwise the login check defers, and never lets a client in
	 * that another component would keep out. */
	plg->logins_unchecked = read && !found.authenticates;
	plg->allow_anonymous = found.allow_anonymous;
	plg->login_check = rcpt_netconf__active(&cfg->network) && (cfg->network.peers || cfg->network.uplink_count);
	return MOSQ_ERR_SUCCESS;
}

RCPT_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *opts, int opt_count)
{
	/* Everything below edits the broker's property lists in place: refuse
	 * to start rather than guess at a layout we do not know. */
	if(!rcpt_props__layout_ok()){
		mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: this broker's MQTT property lists are not laid out as "
				"in Mosquitto 2.0.0 to 2.0.20; not starting rather than risk the broker's memory");
		return MOSQ_ERR_NOT_SUPPORTED;
	}
	struct rcpt_config cfg;
	int rc = configure(&cfg, opts, opt_count);
	if(rc) return rc;

	struct plugin *plg = calloc(1, sizeof(*plg));
	size_t registered = 0;
	rc = MOSQ_ERR_NOMEM;
	if(plg == NULL) goto error;
	plg->id = identifier;
	struct rcpt_brokerconf bc;
	read_broker_conf(&bc);
	char access_line[2 * RCPT_BROKERCONF_TEXT];
	resolve_fallback(plg, cfg.acl_fallback, &bc, access_line, sizeof(access_line));
	resolve_auth(&cfg, &bc);
	if((rc = discover_network(plg, &cfg)) != MOSQ_ERR_SUCCESS) goto error;
	rc = MOSQ_ERR_NOMEM;
	plg->login_check = cfg.bind_client_ids == RCPT_BIND_ON || plg->login_check;
	struct rcpt_host host = broker_host;
	host.ctx = plg;
	/* The core takes cfg's strings and zeroes cfg, so the clean-up below
	 * frees them exactly once whether or not it got this far. */
	plg->core = rcpt_core__new(&host, &cfg);
	if(plg->core == NULL) goto error;
	for(; registered < CALLBACK_COUNT; registered++){
		rc = mosquitto_callback_register(identifier, callbacks[registered].event, callbacks[registered].cb,
				callbacks[registered].data, plg);
		if(rc){
			mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: could not register callback %d: %s",
					callbacks[registered].event, mosquitto_strerror(rc));
			goto error;
		}
	}
	if(plg->login_check){
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, plg);
		if(rc){
			mosquitto_log_printf(MOSQ_LOG_ERR, "receipts: could not register the login check: %s",
					mosquitto_strerror(rc));
			goto error;
		}
	}
	char line[1024];
	rcpt_config__describe(rcpt_core__config(plg->core), line, sizeof(line));
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "receipts: started: %s; %s", line, access_line);
	if(cfg_has_control_users(plg->core)){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "receipts: the control API trusts usernames: make sure "
				"clients authenticate (password_file, dynamic-security or an auth plugin), or anyone can "
				"claim a control user's name");
	}
	*userdata = plg;
	return MOSQ_ERR_SUCCESS;
error:
	if(plg){
		unregister(plg, registered);
		rcpt_core__free(plg->core);
		free(plg);
	}
	rcpt_config__free(&cfg);
	return rc;
}

RCPT_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)opts;
	(void)opt_count;
	struct plugin *plg = userdata;
	if(plg == NULL) return MOSQ_ERR_SUCCESS;
	unregister(plg, CALLBACK_COUNT);
	if(plg->login_check) mosquitto_callback_unregister(plg->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	rcpt_core__save_state(plg->core);
	rcpt_core__free(plg->core);
	free(plg);
	return MOSQ_ERR_SUCCESS;
}
