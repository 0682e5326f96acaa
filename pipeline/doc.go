// Package pipeline runs SR 6.23 end to end (product.md §2): it takes the
// bytes a User posted, verifies them (intake, xmldsig), records the
// request behind the replay guard, has the authoriser decide, hands an
// approval to the signer, sends the command through the device gateway,
// correlates the device's answer and tells the User with signed DUIS
// documents. It owns the order of the steps and crash recovery; each step
// belongs to its role's package.
//
// Trust level: orchestrates; holds the DSP XML-signing key for the
// documents it sends Users, never a CoS key (those stay in signer).
package pipeline
