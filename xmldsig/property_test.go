package xmldsig

import (
	"bytes"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestSignVerifyRoundTrip: for generated documents (random names,
// namespaces, attributes, text full of escapable characters, comments,
// CDATA, indentation, self-closing roots) Sign either refuses by name or
// produces a document that Verify accepts, whose bytes outside the
// signature are the input's (without its indentation, unless
// KeepWhitespace), and whose Digested is the canonical form of that.
// Any further element makes it a digest mismatch.
func TestSignVerifyRoundTrip(t *testing.T) {
	f := testFixture(t)
	rapid.Check(t, func(rt *rapid.T) {
		doc := genDocument(rt)
		if rapid.Bool().Draw(rt, "bind ds on root") {
			doc = strings.Replace(doc, `xmlns:a="urn:a"`, `xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:a="urn:a"`, 1)
		}
		d, err := parse([]byte(doc), newLimits(nil))
		if err != nil {
			rt.Fatalf("generator made an unacceptable document: %v\n%s", err, doc)
		}
		// Without the read-back Sign must still only produce what Verify
		// accepts: the property is checked on that path.
		input := doc
		keep := rapid.Bool().Draw(rt, "keep whitespace")
		opts := []SignOption{WithoutSelfCheck()}
		if keep {
			opts = append(opts, KeepWhitespace())
		} else if c := d.compact(); c != nil {
			doc = string(c)
			if d, err = parse(c, newLimits(nil)); err != nil {
				rt.Fatalf("the compact document does not parse: %v\n%s", err, c)
			}
			if d.compact() != nil {
				rt.Fatalf("compact is not idempotent:\n%s", c)
			}
		}
		signed, err := Sign([]byte(input), f.signer.key, f.signer.cert, nil, opts...)
		if checkCanonicalisable(d.root) != nil {
			if err == nil {
				rt.Fatal("Sign accepted attributes it cannot canonicalise")
			}
			return
		}
		if err != nil {
			rt.Fatalf("Sign: %v\n%s", err, doc)
		}
		v, err := Verify(signed, f.pool)
		if err != nil {
			rt.Fatalf("Verify: %v\n%s", err, signed)
		}
		want, err := canonicalDocument(d.root)
		if err != nil || !bytes.Equal(v.Digested, want) {
			rt.Fatalf("Digested\n%s\nwant\n%s", v.Digested, want)
		}
		start := bytes.Index(signed, []byte("<ds:Signature"))
		end := bytes.LastIndex(signed, []byte("</ds:Signature>")) + len("</ds:Signature>")
		rest := string(signed[:start]) + string(signed[end:])
		if !strings.HasSuffix(doc, "/>") && rest != doc {
			rt.Fatalf("bytes outside the signature changed:\n%s\n%s", rest, doc)
		}

		tampered := append(append(append([]byte{}, signed[:start]...), "<x/>"...), signed[start:]...)
		v, err = Verify(tampered, f.pool)
		if err == nil || v != nil || !strings.Contains(err.Error(), "digest mismatch") {
			rt.Fatalf("added element: %v", err)
		}
	})
}
