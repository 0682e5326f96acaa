package xmldsig

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// White space as the DCC's Java signer and validator see it: they parse
// with the DUIS schema and drop white-space-only text in element-only
// content before signing and before validating (java_test.go checks the
// same documents against the tool itself).

// betweenTags finds white space between two tags inside the root.
var betweenTags = regexp.MustCompile(`>[ \t\r\n]+<`)

// TestSignRemovesIndentation: by default Sign removes the indentation,
// exactly the white space the DCC tool drops, so the signature is over
// what every verifier digests; KeepWhitespace signs the bytes as given.
func TestSignRemovesIndentation(t *testing.T) {
	f := testFixture(t)
	signed := signWith(t, f.signer, f.request)
	root := signed[strings.Index(signed, "<sr:Request"):strings.LastIndex(signed, ">")]
	if m := betweenTags.FindString(root); m != "" {
		t.Errorf("white space %q left between elements:\n%s", m, signed)
	}
	// Nothing else changed: the document minus the signature is the
	// fixture with the lines' leading white space and breaks removed
	// inside the root (its values are single-line).
	head, body, _ := strings.Cut(f.request, "\n")
	want := head + "\n" + compact(body) + "\n"
	if got := strings.Replace(signed, signatureOf(t, signed), "", 1); got != want {
		t.Errorf("document changed beyond its indentation:\n got %s\nwant %s", got, want)
	}
	v, err := Verify([]byte(signed), f.pool)
	if err != nil {
		t.Fatal(err)
	}
	compactSigned, err := Verify([]byte(signWith(t, f.signer, want)), f.pool)
	if err != nil || !bytes.Equal(v.Digested, compactSigned.Digested) {
		t.Errorf("indented and compact documents digest differently (%v)", err)
	}

	kept := signWith(t, f.signer, f.request, KeepWhitespace())
	if got := strings.Replace(kept, signatureOf(t, kept), "", 1); got != f.request {
		t.Errorf("KeepWhitespace changed the document:\n%s", got)
	}
}

// TestSignKeepsValues: what is not indentation is kept byte for byte:
// white space inside a value (leading, trailing, a value of spaces only),
// mixed content, character references and CDATA that stand for spaces,
// and what lies outside the root.
func TestSignKeepsValues(t *testing.T) {
	f := testFixture(t)
	const upd = "\n    <sr:UpdateSecurityCredentialsCoS>"
	for name, tc := range map[string]struct{ from, to, kept, canon string }{
		"value padded": {"<sr:ImportMPxN>1312345678333<", "<sr:ImportMPxN>  1312345678333 \n <",
			">  1312345678333 \n <", ">  1312345678333 \n <"},
		"value of spaces": {"<sr:CommandVariant>1<", "<sr:CommandVariant> \t <",
			"<sr:CommandVariant> \t <", "<sr:CommandVariant> \t <"},
		"mixed content": {"<sr:Body>" + upd, "<sr:Body>\n  text  " + upd,
			"<sr:Body>\n  text  " + upd, "<sr:Body>\n  text  " + upd},
		"character reference": {"<sr:Body>" + upd, "<sr:Body>&#32;" + upd,
			"<sr:Body>&#32;" + upd, "<sr:Body> " + upd},
		"CDATA": {"<sr:Body>" + upd, "<sr:Body><![CDATA[ ]]>" + upd,
			"<sr:Body><![CDATA[ ]]>" + upd, "<sr:Body> " + upd},
		"comment between elements": {"<sr:Header>\n", "<sr:Header>\n<!-- a\n comment -->\n",
			"<sr:Header><!-- a\n comment --><sr:RequestID>", "<sr:Header><sr:RequestID>"},
	} {
		t.Run(name, func(t *testing.T) {
			signed := signWith(t, f.signer, replace(t, f.request, tc.from, tc.to))
			if !strings.Contains(signed, tc.kept) {
				t.Errorf("%q is not in the signed document:\n%s", tc.kept, signed)
			}
			v, err := Verify([]byte(signed), f.pool)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(v.Digested, []byte(tc.canon)) {
				t.Errorf("Digested lacks %q:\n%s", tc.canon, v.Digested)
			}
		})
	}
}

// indent re-indents a signed document with xmllint --format, as someone
// reading it would, inside the signature too.
func indent(t *testing.T, doc []byte) []byte {
	t.Helper()
	cmd := exec.Command(tool(t, "xmllint"), "--format", "-")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xmllint --format: %v", err)
	}
	if !betweenTags.Match(out) || bytes.Equal(out, doc) {
		t.Fatalf("xmllint did not indent:\n%s", out)
	}
	return out
}

// TestVerifyIndentedAfterSigning: a document signed compact and indented
// afterwards verifies, as in the DCC's validator, and hands on the same
// digested bytes; any change beyond indentation is still caught.
func TestVerifyIndentedAfterSigning(t *testing.T) {
	f := testFixture(t)
	signed := []byte(signWith(t, f.signer, f.request))
	want, err := Verify(signed, f.pool)
	if err != nil {
		t.Fatal(err)
	}
	indented := indent(t, signed)
	got, err := Verify(indented, f.pool)
	if err != nil {
		t.Fatalf("indented after signing: %v\n%s", err, indented)
	}
	if !bytes.Equal(got.Digested, want.Digested) || !bytes.Equal(got.SignedInfo, want.SignedInfo) {
		t.Errorf("indentation changed what was handed on:\n%s", got.Digested)
	}
	for name, tc := range map[string]struct {
		from, to string
		want     Reason
	}{
		"value changed":         {">1312345678333<", ">1312345678334<", DigestMismatch},
		"space inside a value":  {">1312345678333<", "> 1312345678333<", DigestMismatch},
		"text between elements": {"<sr:Body>\n", "<sr:Body>\n  x\n", DigestMismatch},
		"reference as indent":   {"<sr:Body>\n", "<sr:Body>&#10;", DigestMismatch},
		"SignedInfo text":       {"<ds:SignedInfo>\n", "<ds:SignedInfo>x\n", ProfileViolation},
	} {
		t.Run(name, func(t *testing.T) {
			doc := replace(t, string(indented), tc.from, tc.to)
			v, err := Verify([]byte(doc), f.pool)
			wantReason(t, v, err, tc.want)
		})
	}
}
