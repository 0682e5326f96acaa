// Package enrol creates the ECoS Party's credential and checks it before
// the service may use it: a P-256 key pair generated inside an HSM (never
// leaving it), proved by a signature verified in software; a PKCS#10
// request for an SMKI Organisation certificate (transitionalCoS role, the
// party's EUI-64, digitalSignature); and, once the SMKI has issued the
// certificate, the checks that it follows the Organisation profile,
// chains to the configured trust anchors and names that very key.
//
// Trust level: handles no private key bytes, only signers that keep them;
// the issued certificate is untrusted input until Check accepts it.
package enrol
