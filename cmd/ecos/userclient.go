package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/eui"
)

// userFlags are how a command reaches the Users' listener as a User: the
// URL, and the User's registered TLS client certificate.
type userFlags struct {
	url, cert, key, ca *string
}

func addUserFlags(fs *flag.FlagSet) *userFlags {
	return &userFlags{
		url:  fs.String("url", "", "the ECoS Party's base URL (default "+defaultURL+", or the demo's with --demo)"),
		cert: fs.String("tls-cert", "", "the TLS client certificate `PEM` registered for the User (default with --demo: the supplier's)"),
		key:  fs.String("tls-key", "", "its private key, `PEM`"),
		ca:   fs.String("tls-ca", "", "the CA certificates (`PEM`) the server's certificate chains to (default: the system's; with --demo: the demo's)"),
	}
}

// client is the API client the flags describe. With a demo directory,
// what they leave out is the demo's: its listener's URL and user's TLS
// files.
func (f *userFlags) client(demoDir string, user eui.EUI) (*api.Client, error) {
	url, cert, key, ca := *f.url, *f.cert, *f.key, *f.ca
	if demoDir != "" {
		if url == "" {
			var err error
			if url, err = demoURL(demoDir); err != nil {
				return nil, malformed(notDemo(demoDir, err))
			}
		}
		dc, dk, dca := demoworld.TLSFiles(demoDir, user)
		cert, key, ca = or(cert, dc), or(key, dk), or(ca, dca)
	}
	url = or(url, defaultURL)
	c := &api.Client{BaseURL: url}
	if !strings.HasPrefix(url, "https://") {
		return c, nil
	}
	if cert == "" || key == "" {
		return nil, usagef("%s wants mutual TLS: give --tls-cert and --tls-key (the TLS client certificate registered for the User), or an http:// --url for a server configured with tls.insecure_plain_http", url)
	}
	var err error
	if c.HTTP, err = api.LoadTLSClient(cert, key, ca); err != nil {
		return nil, malformed(err)
	}
	return c, nil
}

// notDemo says that dir is not a demo directory, when that is why err
// happened, and how one is made.
func notDemo(dir string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--demo %s: not a demo directory (%w); `ecos serve --demo --dir %s` makes one", dir, err, dir)
	}
	return err
}

// demoURL is where the demo in dir serves its Users, by its configuration.
func demoURL(dir string) (string, error) {
	cfg, err := config.Load(filepath.Join(dir, demoworld.ConfigFile))
	if err != nil {
		return "", err
	}
	addr, err := dialAddr(cfg.Listen)
	if err != nil {
		return "", err
	}
	scheme := "https://"
	if cfg.TLS.InsecurePlainHTTP {
		scheme = "http://"
	}
	return scheme + addr, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
