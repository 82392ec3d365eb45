package httpsem

import "testing"

func TestWebSocketOriginAllowed(t *testing.T) {
	for _, tt := range []struct {
		origin, host string
		allowed      []string
		want         bool
	}{
		{"", "api.example:8080", nil, true},
		{"http://api.example:8080", "api.example:8080", nil, true},
		{"http://API.example:8080", "api.example:8080", nil, true},
		{"https://evil.example", "api.example:8080", nil, false},
		{"https://app.example", "api.example:8080", []string{"https://app.example"}, true},
		{"https://app.example.evil", "api.example:8080", []string{"https://app.example"}, false},
		{"https://evil.example", "api.example:8080", []string{"*"}, true},
		{"::not a url", "api.example:8080", nil, false},
	} {
		if got := WebSocketOriginAllowed(tt.origin, tt.host, tt.allowed); got != tt.want {
			t.Errorf("origin %q on %q, allowed %q: %v, want %v", tt.origin, tt.host, tt.allowed, got, tt.want)
		}
	}
}
