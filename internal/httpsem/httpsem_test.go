package httpsem

import "testing"

func TestAcceptedContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"": true, "application/json": true, "Application/JSON; charset=utf-8": true, "application/json-rpc": true,
		" application/jsonrequest ": true, "text/plain": false, "application/x-www-form-urlencoded": false,
		"application/jsonx": false, "multipart/form-data; boundary=x": false,
	} {
		if got := AcceptedContentType([]byte(ct)); got != want {
			t.Errorf("AcceptedContentType(%q) = %v, want %v", ct, got, want)
		}
	}
}
