// Runs SmartDCC's gbcs-parser and duis-parser on what a Go test wrote, and
// prints what they made of it as JSON; the Go test compares. Usage:
//
//	node peers.js JOB.json
//
// with $ECOS_GBCS_PARSER and $ECOS_DUIS_PARSER naming the built peers (see
// setup). The job lists keys (EUI-64, DS or KA, PEM public and private),
// GBCS frames to decode, unsigned General Signing APDUs to sign, General
// Ciphering frames to MAC as the ACB, DUIS files to parse, and DUIS files
// to parse and build again with duis-parser's constructDuis. A failure on
// one item is reported in its place, so the test can say which frame or
// document the peer refused and why.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const gbcs = require(process.env.ECOS_GBCS_PARSER)
const duis = require(process.env.ECOS_DUIS_PARSER)
// gbcs-parser's GCM and key derivation, which its crypto module exports
// but its index does not.
const gbcsCrypto = require(path.join(path.dirname(process.env.ECOS_GBCS_PARSER), 'crypto.js'))

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))

function euiHex(e) {
  return (typeof e === 'string' ? e : Buffer.from(e).toString('hex'))
    .replace(/-/g, '')
    .toLowerCase()
}

// The key store callback gbcs-parser asks for keys through.
async function keyStore(eui, type, options) {
  const id = euiHex(eui)
  const k = job.keys.find((k) => k.eui === id && k.type === type)
  if (options.privateKey) {
    if (k && k.private) return crypto.createPrivateKey(k.private)
  } else if (k) {
    return crypto.createPublicKey(k.public)
  }
  throw new Error(`no ${options.privateKey ? 'private' : 'public'} ${type} key for ${id}`)
}

function describe(e) {
  return e instanceof Error ? e.message : String(e)
}

const responseKinds = [
  'CINMessage', 'DSPInventory', 'DSPOptIn', 'DSPSchedulesRead',
  'DSPScheduledMessage', 'DSPScheduleID', 'DSPUpdateFirmwareWarning',
  'DSPUpdatePPMIDFirmwareWarning', 'DSPWANMatrix',
  'FutureDatedDeviceAlertMessage', 'GBCSPayload', 'LocalCommand',
  'PreCommand', 'NoBody',
]

// kinds names every shape duis-parser's own type guards recognise.
function kinds(doc) {
  const out = []
  if (duis.isSimplifiedDuisOutputRequest(doc)) out.push('Request')
  if (duis.isSimplifiedDuisOutputResponse(doc)) out.push('Response')
  if (doc && doc.header && doc.header.type === 'response') {
    for (const k of responseKinds) {
      if (duis.isSimplifiedDuisResponseBody_ResponseMessage_X(k, doc.body)) out.push('ResponseMessage/' + k)
    }
    if (duis.isSimplifiedDuisResponseBody_DeviceAlertMessage(doc.body)) out.push('DeviceAlertMessage')
    if (duis.isSimplifiedDuisResponseBody_DCCAlertMessage(doc.body)) out.push('DCCAlertMessage')
  }
  return out
}

// macCommand sets the MAC of a MAC-only General Ciphering command (DD 00…
// 11 00 00 00 00, the General Signing APDU, 12 octets of MAC) as the ACB
// (job.acb) computes it for the recipient, with gbcs-parser's own GCM and
// key derivation; the AAD is 11 00 00 00 00 00 and the APDU, as its
// verifier has it.
async function macCommand(b) {
  if (b[0] !== 0xdd || b[1] !== 0x00) throw new Error('not a General Ciphering frame')
  const n = b[7] < 0x80 ? 0 : b[7] & 0x7f
  const start = 8 + n + 5
  const end = b.length - 12
  const apdu = b.subarray(start, end)
  if (b[start - 5] !== 0x11 || apdu[0] !== 0xdf) throw new Error('not a MAC-only command')
  const cipherInfo = {
    origCounter: apdu.subarray(3, 11),
    origSysTitle: apdu.subarray(12, 20),
    recipSysTitle: apdu.subarray(21, 29),
    cra: 'command',
  }
  const acbKey = await keyStore(job.acb, 'KA', { privateKey: true })
  const meterKey = await keyStore(cipherInfo.recipSysTitle, 'KA', {})
  const aesKey = gbcsCrypto.deriveKeyFromPair(acbKey, meterKey, cipherInfo, 'command')
  const aad = Buffer.concat([Buffer.from([0x11, 0, 0, 0, 0, 0]), apdu])
  const { tag } = gbcsCrypto.gcm(cipherInfo, new Uint8Array(0), aad, aesKey)
  return Buffer.concat([b.subarray(0, end), tag])
}

async function main() {
  const out = { gbcs: {}, sign: {}, mac: {}, duis: {}, construct: {} }
  for (const f of job.gbcs ?? []) {
    try {
      const tree = await gbcs.parseGbcsMessage(f.hex, keyStore, job.acb)
      out.gbcs[f.name] = { tree: gbcs.minimizeMessage(tree) }
    } catch (e) {
      out.gbcs[f.name] = { error: describe(e) }
    }
  }
  for (const s of job.sign ?? []) {
    try {
      const b64 = Buffer.from(s.hex, 'hex').toString('base64')
      const signed = await gbcs.signGroupingHeader(s.originator, b64, keyStore)
      out.sign[s.name] = { hex: Buffer.from(signed, 'base64').toString('hex') }
    } catch (e) {
      out.sign[s.name] = { error: describe(e) }
    }
  }
  for (const d of job.duis ?? []) {
    try {
      const doc = duis.parseDuis('simplified', fs.readFileSync(d.file, 'utf8'))
      out.duis[d.name] = { doc, kinds: kinds(doc) }
    } catch (e) {
      out.duis[d.name] = { error: describe(e) }
    }
  }
  for (const m of job.mac ?? []) {
    try {
      out.mac[m.name] = { hex: (await macCommand(Buffer.from(m.hex, 'hex'))).toString('hex') }
    } catch (e) {
      out.mac[m.name] = { error: describe(e) }
    }
  }
  for (const d of job.construct ?? []) {
    try {
      const doc = duis.parseDuis('simplified', fs.readFileSync(d.file, 'utf8'))
      out.construct[d.name] = { xml: duis.constructDuis('simplified', doc, d.version) }
    } catch (e) {
      out.construct[d.name] = { error: describe(e) }
    }
  }
  process.stdout.write(JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
}

main().catch((e) => {
  console.error(describe(e))
  process.exit(1)
})
