// Package testpki generates a complete SMKI-profile test PKI, so that ecos's
// demo, tests and users need no real DCC data: an Organisation root and
// issuing CA, supplier, network-operator, ACB, TCoS/ECoS and DSP
// credentials, an IKI File Signing CA with a file-signing certificate per
// supplier, and a device CA with device DS/KA certificates.
//
// Trust level: TEST AND DEMO ONLY. Every private key it makes is written in
// the clear and, with a seeded Options.Rand, is reproducible by anyone. Never
// load these keys into a production HSM or present these certificates to a
// real DCC service.
//
// The certificates copy the profile of the DCC's ZAZ1 test PKI byte for byte
// (see docs dcc-formats.md §4.2): P-256, ecdsa-with-SHA256, 16-byte serials,
// UTCTime before 2050, OU role codes as two hex digits, the EUI-64 in an
// x500UniqueIdentifier BIT STRING, 8-byte key identifiers (RFC 5280 method
// 2), critical keyUsage and certificatePolicies with the test-PKI OIDs, and
// device certificates with an empty subject, a critical hardwareModuleName
// subjectAltName and notAfter 99991231235959Z. The TBSCertificate is built
// with cryptobyte rather than crypto/x509.CreateCertificate, because the
// stdlib chooses its own extension order, SKI method and string types.
// One deliberate departure: XML-signing certificates (OU 87) get the common
// organisation shape, with an AKI; ZAZ1's own list policies first, omit the
// AKI that GBCS requires, and spell their issuer in UTF8String.
//
// Names and identifiers, chosen here because nothing public fixes them:
//
//   - CA names mirror ZAZ1's ZA/Z1/E357 with T for "test": root OU=00,CN=TA;
//     issuing Organisation CA OU=07,CN=T1; device CA CN=T357; the IKI CA is
//     O=DCC,OU=issuingAuthority,CN=IKI File Signing CA, which renders as the
//     DN the ADT signature line carries.
//   - EUI-64s use the prefix EE-C0-5E. 0xEE has the locally-administered bit
//     set, so no manufacturer- or DCC-issued identifier can collide with ours:
//     ACB and DSP EE-C0-5E-00-00-00-00-02, network operator …-00-03, TCoS
//     …-00-04, ECoS …-00-05; supplier n EE-C0-5E-00-01-00-00-nn (n from 01);
//     device n EE-C0-5E-DE-00-00-hh-ll (n from 0001).
//   - File-signing certificates (profile not public) are organisation-shaped:
//     OU=02 and the supplier's EUI-64, digitalSignature, issued by the IKI CA.
//   - The Organisation CA, the device CA and the IKI CA all sit directly
//     under the one root, so one trust anchor (root-ca.pem) covers
//     everything. (The real SMKI and IKI keep separate hierarchies.)
//
// Credential names, which are also the file stems WriteDir uses:
//
//	root-ca  org-ca  device-ca  iki-file-signing-ca
//	tcos-ds  ecos-ds  dsp-xml-sign  acb-ds  acb-ka
//	network-operator-ds  network-operator-ka
//	supplier<n>-ds  supplier<n>-ka  supplier<n>-ka-topup
//	supplier<n>-xml-sign  supplier<n>-file-signing   (n = 1, 2, …)
//	device-<nnnn>-ds  device-<nnnn>-ka                (nnnn = 0001, 0002, …)
package testpki
