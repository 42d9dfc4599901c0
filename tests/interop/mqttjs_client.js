// MQTT.js (Debian's node-mqtt) as a plain MQTT 5 client of the receipts
// broker, driven by the interop tests. It prints one JSON line per event, so
// the tests see exactly what reached it and nothing is decided here.
//
//   node mqttjs_client.js responder PORT ID AREA     answers in upper case
//   node mqttjs_client.js silent    PORT ID AREA     takes requests, never answers
//   node mqttjs_client.js requester PORT ID AREA MESSAGE [TIMEOUT_MS] [CORRELATION]
//       CORRELATION '-' (or absent) sets no Correlation Data at all.
'use strict'
const mqtt = require('mqtt')

const [mode, port, id, area, message, timeoutMs, correlation] = process.argv.slice(2)

function emit (event, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ event }, fields)) + '\n')
}

// MQTT.js gives user properties as an object whose repeated names hold
// arrays; the tests want the pairs.
function pairs (userProperties) {
  const out = []
  for (const [name, value] of Object.entries(userProperties || {})) {
    for (const v of [].concat(value)) out.push([name, v])
  }
  return out
}

function describe (topic, payload, packet) {
  const p = packet.properties || {}
  return {
    topic,
    payload: payload.toString('hex'),
    qos: packet.qos,
    retain: packet.retain,
    responseTopic: p.responseTopic === undefined ? null : p.responseTopic,
    correlation: p.correlationData === undefined ? null : p.correlationData.toString('hex'),
    user: pairs(p.userProperties)
  }
}

const client = mqtt.connect({
  host: '127.0.0.1',
  port: Number(port),
  clientId: id,
  protocolVersion: 5,
  clean: true,
  reconnectPeriod: 0
})

// The PUBACK's reason code as it came: MQTT.js's publish callback hides
// some, such as 0x10 (no matching subscribers).
client.on('packetreceive', (packet) => {
  if (packet.cmd === 'puback') emit('puback', { reasonCode: packet.reasonCode || 0 })
})
client.on('error', (err) => { emit('error', { message: String(err) }); process.exit(2) })
client.on('close', () => emit('closed', {}))

function respond (answer) {
  client.subscribe(`req/${area}`, { qos: 1 }, (err, granted) => {
    emit('ready', { granted: err ? -1 : granted[0].qos })
  })
  client.on('message', (topic, payload, packet) => {
    emit('request', describe(topic, payload, packet))
    const p = packet.properties || {}
    if (!answer || p.responseTopic === undefined) return
    // Plain MQTT 5: reply to the Response Topic with the Correlation Data.
    const properties = p.correlationData === undefined ? {} : { correlationData: p.correlationData }
    client.publish(p.responseTopic, payload.toString().toUpperCase(), { qos: 1, properties })
    emit('answered', { topic: p.responseTopic })
  })
}

function request () {
  const returnTopic = `ret/${id}/replies`
  client.on('message', (topic, payload, packet) => emit('message', describe(topic, payload, packet)))
  // Subscribe first: a receipt that came before the subscription would be lost.
  client.subscribe(returnTopic, { qos: 1 }, (err, granted) => {
    emit('ready', { granted: err ? -1 : granted[0].qos })
    const properties = { responseTopic: returnTopic }
    if (correlation && correlation !== '-') properties.correlationData = Buffer.from(correlation)
    // An empty userProperties object makes MQTT.js 4.3 send nothing at all.
    if (timeoutMs && timeoutMs !== '-') properties.userProperties = { 'receipt-timeout-ms': timeoutMs }
    client.publish(`req/${area}`, message, { qos: 1, properties })
  })
}

client.on('connect', () => {
  if (mode === 'responder') respond(true)
  else if (mode === 'silent') respond(false)
  else if (mode === 'requester') request()
  else { emit('error', { message: `unknown mode ${mode}` }); process.exit(2) }
})
