package pipeline

import (
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/xmldsig"
)

// acknowledgement is the signed synchronous answer; id nil for a request
// whose ID could not be read.
func (p *Pipeline) acknowledgement(id *duis.RequestID, code duis.ResponseCode, at time.Time) ([]byte, error) {
	var r *duis.Response
	if id != nil {
		r = duis.NewAcknowledgement(*id, code, at)
	} else {
		r = duis.NewAcknowledgement(duis.RequestID{}, code, at)
		r.Header.RequestID = nil
	}
	return p.signDocument(r)
}

// serviceResponse is the signed asynchronous answer carrying the device's
// GBCS payload (nil when there is none: the device did not answer).
func (p *Pipeline) serviceResponse(id duis.RequestID, responseID *duis.RequestID, code duis.ResponseCode, at time.Time, payload []byte) ([]byte, error) {
	var r *duis.Response
	if responseID != nil {
		r = duis.NewServiceResponse(id, *responseID, code, at, payload)
	} else {
		r = duis.NewAcknowledgement(id, code, at)
	}
	return p.signDocument(r)
}

func (p *Pipeline) signDocument(r *duis.Response) ([]byte, error) {
	doc, err := r.Encode()
	if err != nil {
		return nil, fmt.Errorf("pipeline: encoding %s response: %w", r.Header.ResponseCode, err)
	}
	// duis encodes these documents; its tests and the service's run them
	// through Verify, xmlsec1 and the Java validator, so reading each one
	// back would only double the cost of answering.
	signed, err := xmldsig.Sign(doc, p.cfg.ResponseKey.Signer, p.cfg.ResponseKey.Cert, p.cfg.Rand, xmldsig.WithoutSelfCheck())
	if err != nil {
		return nil, fmt.Errorf("pipeline: signing %s response: %w", r.Header.ResponseCode, err)
	}
	return signed, nil
}
