package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"

	"github.com/ecos-cos/ecos/internal/strictjson"
)

// decode turns the file into a Config with defaults applied, or an *Error.
//
// encoding/json alone is not strict enough: it matches keys without regard
// to case, lets a duplicate key silently win, and its errors for unknown
// keys and bad durations carry neither the key path nor a position. So
// strictjson walks the tokens against the Config type first, collecting
// every such fault with its line and column; only a document that passes
// is handed to json.Decoder (with DisallowUnknownFields, as a second line
// of defence) to fill the struct.
func decode(data []byte) (*Config, *Error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // editors on Windows add one
	var c Config
	present, err := strictjson.Decode(data, &c, decodeOptions)
	if err != nil {
		if se, ok := errors.AsType[*strictjson.Error](err); ok {
			return nil, &Error{Problems: se.Problems}
		}
		return nil, &Error{Problems: []Problem{{Msg: err.Error()}}}
	}
	c.withDefaults(present)
	return &c, nil
}

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[Duration]()
)

var decodeOptions = strictjson.Options{
	What: "configuration",
	Rules: map[reflect.Type]strictjson.Rule{
		durationType: func(tok json.Token) string {
			s, ok := tok.(string)
			if !ok {
				return `must be a duration string such as "10s", not ` + strictjson.Describe(tok)
			}
			if _, err := parseDuration(s); err != nil {
				return err.Error()
			}
			return ""
		},
	},
	Renamed: renamed,
}

// renamed points a key that no longer exists at what replaced it.
var renamed = map[string]string{
	// One URL for every User was mistaken for a User's endpoint.
	"callback.url": ": renamed callback.relay_url, an operator relay that receives every User's documents; " +
		"a User's own endpoint, which receives only its documents, goes in callback.users",
}
