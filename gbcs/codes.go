package gbcs

import (
	"fmt"

	"github.com/ecos-cos/ecos/role"
)

// MessageCode is the GBCS message code carried in the first two octets of
// the General Signing other-information field. It names the use case (and,
// for CS02b, the replacement mode).
type MessageCode uint16

// Message codes of the CS02 family that the ECoS Party sends or receives.
const (
	CodeRootBySupplier                   MessageCode = 0x0100 // CS02b mode 0
	CodeRootByWanProvider                MessageCode = 0x0101 // CS02b mode 1
	CodeSupplierBySupplier               MessageCode = 0x0102 // CS02b mode 2
	CodeNetworkOperatorByNetworkOperator MessageCode = 0x0103 // CS02b mode 3
	CodeACBByACB                         MessageCode = 0x0104 // CS02b mode 4
	CodeWanProviderByWanProvider         MessageCode = 0x0105 // CS02b mode 5
	CodeTransCoSByTransCoS               MessageCode = 0x0106 // CS02b mode 6: TCoS→ECoS migration
	CodeSupplierByTransCoS               MessageCode = 0x0107 // CS02b mode 7: SR 6.23
	CodeAnyExceptAbnormalRootByRecovery  MessageCode = 0x0108 // CS02b mode 8
	CodeAnyByContingency                 MessageCode = 0x0109 // CS02b mode 9
	CodeFutureDatedAlert                 MessageCode = 0x00CB // CS02b future-dated execution alert
	CodeProvideSecurityCredentials       MessageCode = 0x0008 // CS02a
	CodeIssueSecurityCredentials         MessageCode = 0x000A // CS02c
	CodeUpdateDeviceCertificate          MessageCode = 0x000B // CS02d
	CodeProvideDeviceCertificate         MessageCode = 0x000C // CS02e
)

var messageCodeNames = map[MessageCode]string{
	CodeRootBySupplier:                   "CS02b Update Security Credentials (rootBySupplier)",
	CodeRootByWanProvider:                "CS02b Update Security Credentials (rootByWanProvider)",
	CodeSupplierBySupplier:               "CS02b Update Security Credentials (supplierBySupplier)",
	CodeNetworkOperatorByNetworkOperator: "CS02b Update Security Credentials (networkOperatorByNetworkOperator)",
	CodeACBByACB:                         "CS02b Update Security Credentials (accessControlBrokerByACB)",
	CodeWanProviderByWanProvider:         "CS02b Update Security Credentials (wanProviderByWanProvider)",
	CodeTransCoSByTransCoS:               "CS02b Update Security Credentials (transCoSByTransCoS)",
	CodeSupplierByTransCoS:               "CS02b Update Security Credentials (supplierByTransCoS)",
	CodeAnyExceptAbnormalRootByRecovery:  "CS02b Update Security Credentials (anyExceptAbnormalRootByRecovery)",
	CodeAnyByContingency:                 "CS02b Update Security Credentials (anyByContingency)",
	CodeFutureDatedAlert:                 "CS02b Update Security Credentials future-dated execution alert",
	CodeProvideSecurityCredentials:       "CS02a Provide Security Credentials Details",
	CodeIssueSecurityCredentials:         "CS02c Issue Security Credentials",
	CodeUpdateDeviceCertificate:          "CS02d Update Device Certificate on Device",
	CodeProvideDeviceCertificate:         "CS02e Provide Device Certificate from Device",
}

// String is the hex form used in logs and the CLI, e.g. "0x0107".
func (c MessageCode) String() string { return fmt.Sprintf("0x%04X", uint16(c)) }

// Name is the use-case name, or "" for a code this package does not know.
func (c MessageCode) Name() string { return messageCodeNames[c] }

// Mode is the CS02b replacement mode a CS02b message code selects.
func (c MessageCode) Mode() (Mode, bool) {
	if c >= CodeRootBySupplier && c <= CodeAnyByContingency {
		return Mode(c - CodeRootBySupplier), true
	}
	return 0, false
}

// IsCS02b reports whether c is one of the ten CS02b command codes.
func (c MessageCode) IsCS02b() bool { _, ok := c.Mode(); return ok }

// CRA is the command/response/alert flag, the first octet of the General
// Signing transaction-id.
type CRA uint8

const (
	CRACommand  CRA = 1
	CRAResponse CRA = 2
	CRAAlert    CRA = 3
)

func (c CRA) String() string {
	switch c {
	case CRACommand:
		return "command"
	case CRAResponse:
		return "response"
	case CRAAlert:
		return "alert"
	}
	return fmt.Sprintf("unknown(%d)", uint8(c))
}

// Role is a GBCS RemotePartyRole: whose trust anchor a cell holds. It is
// role.Role, the numbering SMKI certificates carry too.
type Role = role.Role

// The GBCS roles under gbcs's names.
const (
	RoleRoot                = role.Root
	RoleRecovery            = role.Recovery
	RoleSupplier            = role.Supplier
	RoleNetworkOperator     = role.NetworkOperator
	RoleAccessControlBroker = role.AccessControlBroker
	RoleTransitionalCoS     = role.TransitionalCoS
	RoleWanProvider         = role.WANProvider
	RoleIssuingAuthority    = role.IssuingAuthority
	RoleOther               = role.Other
)

// Mode is the CS02b CredentialsReplacementMode.
type Mode uint8

const (
	ModeRootBySupplier                   Mode = 0
	ModeRootByWanProvider                Mode = 1
	ModeSupplierBySupplier               Mode = 2
	ModeNetworkOperatorByNetworkOperator Mode = 3
	ModeACBByACB                         Mode = 4
	ModeWanProviderByWanProvider         Mode = 5
	ModeTransCoSByTransCoS               Mode = 6
	ModeSupplierByTransCoS               Mode = 7
	ModeAnyExceptAbnormalRootByRecovery  Mode = 8
	ModeAnyByContingency                 Mode = 9
)

var modeNames = map[Mode]string{
	ModeRootBySupplier:                   "rootBySupplier",
	ModeRootByWanProvider:                "rootByWanProvider",
	ModeSupplierBySupplier:               "supplierBySupplier",
	ModeNetworkOperatorByNetworkOperator: "networkOperatorByNetworkOperator",
	ModeACBByACB:                         "accessControlBrokerByACB",
	ModeWanProviderByWanProvider:         "wanProviderByWanProvider",
	ModeTransCoSByTransCoS:               "transCoSByTransCoS",
	ModeSupplierByTransCoS:               "supplierByTransCoS",
	ModeAnyExceptAbnormalRootByRecovery:  "anyExceptAbnormalRootByRecovery",
	ModeAnyByContingency:                 "anyByContingency",
}

func (m Mode) String() string { return enumName(modeNames, m) }

// MessageCode is the CS02b message code that must carry a command of mode m.
func (m Mode) MessageCode() (MessageCode, bool) {
	if m > ModeAnyByContingency {
		return 0, false
	}
	return CodeRootBySupplier + MessageCode(m), true
}

// Status is the StatusCode ENUMERATED a device reports per trust-anchor cell
// (CS02b) or per remote-party role (CS02a).
type Status uint8

const (
	StatusSuccess             Status = 0
	StatusBadCertificate      Status = 5
	StatusNoTrustAnchor       Status = 10
	StatusInsufficientMemory  Status = 17
	StatusTrustAnchorNotFound Status = 25
	StatusResourcesBusy       Status = 30
	StatusOther               Status = 127
)

var statusNames = map[Status]string{
	StatusSuccess:             "success",
	StatusBadCertificate:      "badCertificate",
	StatusNoTrustAnchor:       "noTrustAnchor",
	StatusInsufficientMemory:  "insufficientMemory",
	StatusTrustAnchorNotFound: "trustAnchorNotFound",
	StatusResourcesBusy:       "resourcesBusy",
	StatusOther:               "other",
}

func (s Status) String() string { return enumName(statusNames, s) }

// CellUsage distinguishes the prepayment top-up KA cell from the ordinary
// (management) cell of the same role and key usage.
type CellUsage uint8

const (
	CellManagement      CellUsage = 0 // the ASN.1 DEFAULT: normally omitted
	CellPrepaymentTopUp CellUsage = 1
)

var cellUsageNames = map[CellUsage]string{
	CellManagement:      "management",
	CellPrepaymentTopUp: "prepaymentTopUp",
}

func (u CellUsage) String() string { return enumName(cellUsageNames, u) }

// SeqNumberUsage names a specialist sequence number (only prepayment top-up
// exists).
type SeqNumberUsage uint8

const SeqNumberPrepaymentTopUp SeqNumberUsage = 0

func (u SeqNumberUsage) String() string {
	if u == SeqNumberPrepaymentTopUp {
		return "prepaymentTopUp"
	}
	return fmt.Sprintf("unknown(%d)", uint8(u))
}

// AlertCode is the GBCS alert code inside an alert payload.
type AlertCode uint16

const (
	AlertFutureDatedSuccess AlertCode = 0x8F66 // Future-date HAN Interface Command Successfully Actioned
	AlertFutureDatedFailure AlertCode = 0x8F67 // Future-date HAN Interface Command not Successfully Actioned
	AlertUpdateSecurityCred AlertCode = 0x8F70 // Update Security Credentials
)

var alertCodeNames = map[AlertCode]string{
	AlertFutureDatedSuccess: "Future-date HAN Interface Command Successfully Actioned",
	AlertFutureDatedFailure: "Future-date HAN Interface Command not Successfully Actioned",
	AlertUpdateSecurityCred: "Update Security Credentials",
}

func (a AlertCode) String() string { return fmt.Sprintf("0x%04X", uint16(a)) }

// Name is the alert's description, or "" when unknown.
func (a AlertCode) Name() string { return alertCodeNames[a] }

func enumName[K ~uint8](names map[K]string, k K) string {
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprintf("unknown(%d)", uint8(k))
}
