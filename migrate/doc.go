// Package migrate runs the TCoS → ECoS migration (product.md §5): waves of
// devices, each sent the CS02b mode 6 command that replaces the TCoS
// certificate in its transitionalCoS cell with the ECoS one, signed with
// the TCoS key, and read back with CS02a when an outcome is lost.
//
// The rules it keeps:
//   - A device's state is in the database (store.MoveDevice's graph) and
//     moves only by compare-and-set; every move is in its history.
//   - One command in flight per device: the device's lease (package lease)
//     is held from before its counter is reserved until its outcome is
//     recorded, and the database refuses a second open command.
//   - The counter is reserved and the intent recorded before signing; the
//     command is marked sent before it is handed on. After a crash a
//     command still in intent never left (the device goes to retry-wait),
//     and a sent one may have (the device goes to unknown).
//   - Success only on the device's signed response showing the ECoS
//     certificate's SKI in the cell.
//   - Nothing is signed for an unknown device but a read-back, which
//     changes nothing on the device: it is signed with the ECoS key (what
//     the cell should hold after a lost mode 6), and if that goes
//     unanswered, with the TCoS key.
//   - Migration commands count against the DCC-wide anomaly thresholds; a
//     DCC-wide hold pauses the wave and fails no device.
//
// Trust level: holds no keys (the signer does); trusts the operator's
// waves and the store's states; verifies every device response.
package migrate
