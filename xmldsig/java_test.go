package xmldsig

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// Interoperability with the DCC's reference signer, the Java
// dccboxed-signing-tool, as shipped in the npm package
// @smartdcc/duis-sign-wrap (dist/tool.jar). $ECOS_DUIS_SIGN_JAR points at
// the jar; without it the tests skip locally and fail in CI:
//
//	npm pack @smartdcc/duis-sign-wrap@0.1.2 && tar xzf smartdcc-duis-sign-wrap-0.1.2.tgz
//	export ECOS_DUIS_SIGN_JAR=$PWD/package/dist/tool.jar
//
// Validate exits 0 for a valid signature and 10 for an invalid one (or an
// XSD failure); Sign signs with the bundled ZAZ1 key of the RequestID's
// originator.

const (
	javaValid   = 0
	javaInvalid = 10
)

func signJar(t *testing.T) (java, jar string) {
	t.Helper()
	jar = testkit.Env(t, "ECOS_DUIS_SIGN_JAR")
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("ECOS_DUIS_SIGN_JAR: %v", err)
	}
	return tool(t, "java"), jar
}

// runJava runs one of the tool's classes on stdin and returns its stdout
// and exit code.
func runJava(t *testing.T, class string, stdin []byte, args ...string) ([]byte, int) {
	t.Helper()
	java, jar := signJar(t)
	cmd := exec.Command(java, append([]string{"-cp", jar, "uk.co.smartdcc.boxed.xmldsig." + class, "-"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		t.Logf("java %s: exit %d\n%s", class, ee.ExitCode(), stderr.Bytes())
		return out, ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("java %s: %v", class, err)
	}
	return out, 0
}

// TestJavaValidatesSign: the Java validator accepts our signature on the
// RTDS 6.23 request and rejects it once the request is changed.
func TestJavaValidatesSign(t *testing.T) {
	signJar(t)
	signed, _ := signVectorRequest(t, true)
	if _, code := runJava(t, "Validate", signed); code != javaValid {
		t.Fatalf("Java Validate exit %d on our signature; want %d", code, javaValid)
	}
	tampered := bytes.Replace(signed, []byte("<sr:ImportMPxN>1312345678333"), []byte("<sr:ImportMPxN>1312345678334"), 1)
	if _, code := runJava(t, "Validate", tampered); code != javaInvalid {
		t.Errorf("Java Validate exit %d on a tampered request; want %d", code, javaInvalid)
	}
	v, err := Verify(tampered, vectorPool(t, "keys/xml-sign-90B3D51F30010000-ds.pem"))
	wantReason(t, v, err, DigestMismatch)
}

// TestJavaSignVerifies: a request the Java tool signs passes Verify, and
// digests to the same canonical bytes as our own signature on it.
func TestJavaSignVerifies(t *testing.T) {
	signJar(t)
	request := testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
	javaSigned, code := runJava(t, "Sign", request, "--preserveCounter")
	if code != 0 {
		t.Fatalf("Java Sign exit %d", code)
	}
	ours, _ := signVectorRequest(t, true)
	pool := vectorPool(t, "keys/xml-sign-90B3D51F30010000-ds.pem")
	want, err := Verify(ours, pool)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]CertFinder{"certificate": pool, "keystore.json": keystorePool(t)} {
		got, err := Verify(javaSigned, p)
		if err != nil {
			t.Fatalf("%s: Java's signature: %v\n%s", name, err, javaSigned)
		}
		if !bytes.Equal(got.Digested, want.Digested) {
			t.Errorf("%s: Java's signed request digests other bytes than ours", name)
		}
	}
	tampered := bytes.Replace(javaSigned, []byte("<sr:ImportMPxN>1312345678333"), []byte("<sr:ImportMPxN>1312345678334"), 1)
	v, err := Verify(tampered, pool)
	wantReason(t, v, err, DigestMismatch)
}

// TestJavaWhitespace: white space is read as the DCC's Java tool reads
// it. The tool parses with the DUIS schema and drops white-space-only text
// in element-only content before signing and before validating, so a
// signature over indentation fails there; values keep their white space.
func TestJavaWhitespace(t *testing.T) {
	signJar(t)
	pool := vectorPool(t, "keys/xml-sign-90B3D51F30010000-ds.pem")

	t.Run("ecos signs indented Java validates", func(t *testing.T) {
		signed, _ := signVectorRequest(t, false) // the RTDS template, indented as published
		if _, code := runJava(t, "Validate", signed); code != javaValid {
			t.Errorf("Java Validate exit %d on an indented document ecos signed; want %d\n%s", code, javaValid, signed)
		}
	})

	t.Run("values keep their white space", func(t *testing.T) {
		signed, _ := signAsVectorSupplier(t, []byte(spacedAlert))
		for _, v := range []string{"<sr:ECoSAlertCode>   </sr:ECoSAlertCode>", ">  two  spaces\n and a line </"} {
			if !bytes.Contains(signed, []byte(v)) {
				t.Errorf("value %q changed:\n%s", v, signed)
			}
		}
		if _, code := runJava(t, "Validate", signed); code != javaValid {
			t.Errorf("Java Validate exit %d; it digests values as ecos does, want %d", code, javaValid)
		}
		if _, err := Verify(signed, pool); err != nil {
			t.Error(err)
		}
	})

	t.Run("KeepWhitespace Java refuses ecos and xmlsec1 accept", func(t *testing.T) {
		signed, certPEM := signVectorRequest(t, false, KeepWhitespace())
		if _, code := runJava(t, "Validate", signed); code != javaInvalid {
			t.Errorf("Java Validate exit %d on a signature over indentation; the tool's white-space rule has changed, revisit KeepWhitespace", code)
		}
		if _, err := Verify(signed, pool); err != nil {
			t.Error(err)
		}
		if ok, out := xmlsecVerifyIfInstalled(t, signed, certPEM); !ok {
			t.Errorf("xmlsec1: %s", out)
		}
	})

	t.Run("Java signs someone indents ecos verifies", func(t *testing.T) {
		request := testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
		javaSigned, code := runJava(t, "Sign", request, "--preserveCounter")
		if code != 0 {
			t.Fatalf("Java Sign exit %d", code)
		}
		want, err := Verify(javaSigned, pool)
		if err != nil {
			t.Fatal(err)
		}
		indented := indent(t, javaSigned)
		if _, code := runJava(t, "Validate", indented); code != javaValid {
			t.Errorf("Java Validate exit %d on its own signature indented", code)
		}
		got, err := Verify(indented, pool)
		if err != nil {
			t.Fatalf("Java's signature, indented: %v\n%s", err, indented)
		}
		if !bytes.Equal(got.Digested, want.Digested) {
			t.Errorf("indenting changed the digested bytes:\n%s", got.Digested)
		}
		tampered := bytes.Replace(indented, []byte("<sr:ImportMPxN>1312345678333"), []byte("<sr:ImportMPxN>1312345678334"), 1)
		v, err := Verify(tampered, pool)
		wantReason(t, v, err, DigestMismatch)
	})
}

// spacedAlert is a DUIS DCC alert, indented, whose xs:string values hold
// white space: leading, trailing, inner line breaks, and spaces only.
const spacedAlert = `<?xml version="1.0" encoding="UTF-8"?>
<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert" schemaVersion="5.4">
  <sr:Header>
    <sr:ResponseCode>I0</sr:ResponseCode>
    <sr:ResponseDateTime>2026-12-01T10:00:00.000Z</sr:ResponseDateTime>
  </sr:Header>
  <sr:Body>
    <sr:DCCAlertMessage>
      <sr:DCCAlertCode>N60</sr:DCCAlertCode>
      <sr:DCCAlert>
        <sr:ECoSAlert>
          <sr:AlertID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:7</sr:AlertID>
          <sr:ECoSAlertCode>   </sr:ECoSAlertCode>
          <sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>
          <sr:AdditionalInformation>  two  spaces
 and a line </sr:AdditionalInformation>
        </sr:ECoSAlert>
      </sr:DCCAlert>
    </sr:DCCAlertMessage>
  </sr:Body>
</sr:Response>
`
