package browsertest

import (
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// The dashboard's everyday path, as both browser tests walk it: open it, see
// the live event stream, register, make a room stuffy from the simulator
// panel, take the brain's task, complete it and see the reward.

// Open loads the dashboard at base and waits for its event stream.
func (b *Browser) Open(base string) {
	b.T.Helper()
	b.Run("open the dashboard", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	b.Run("the event stream is live through the proxy", chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)))
}

// Register signs a new person up and returns their user id.
func (b *Browser) Register(user, pass, display string) int {
	b.T.Helper()
	b.Run("register",
		chromedp.SendKeys(chromedp.CSS(`#login-username`), user),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), pass),
		chromedp.SendKeys(chromedp.CSS(`#login-display`), display),
		chromedp.Click(chromedp.CSS(`#register-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami`)))
	return b.AttrInt(`#whoami`, "data-user")
}

// Inject sets a zone's people and CO2 from the simulator panel.
func (b *Browser) Inject(zone string, people, co2 int) {
	b.T.Helper()
	b.Run("inject CO2 and people into "+zone,
		chromedp.WaitReady(chromedp.CSS(`#inject-zone option[value="`+zone+`"]`)),
		chromedp.SetValue(chromedp.CSS(`#inject-zone`), zone),
		chromedp.SendKeys(chromedp.CSS(`#inject-people`), strconv.Itoa(people)),
		chromedp.SendKeys(chromedp.CSS(`#inject-co2`), strconv.Itoa(co2)),
		chromedp.Click(chromedp.CSS(`#inject-apply`)),
		chromedp.WaitVisible(chromedp.CSS(`#sim-status:not(.error)`)))
	if msg := b.Text(`#sim-status`); !strings.Contains(msg, strings.ReplaceAll(zone, "_", " ")) {
		b.T.Fatalf("injecting: %q", msg)
	}
}

// TaskCard is the selector of the open task card of a zone.
func TaskCard(zone string) string { return `#tasks-open li.task[data-zone="` + zone + `"]` }

// WaitTask waits until the brain's task for zone is on the board and returns
// its id and bounty.
func (b *Browser) WaitTask(zone string, limit time.Duration) (id, bounty int) {
	b.T.Helper()
	card := TaskCard(zone)
	b.RunFor("wait for the brain's task", limit, chromedp.WaitVisible(chromedp.CSS(card)))
	return b.AttrInt(card, "data-id"), b.AttrInt(card+` .reward`, "data-bounty")
}

// Accept takes task id.
func (b *Browser) Accept(id int) {
	b.T.Helper()
	s := strconv.Itoa(id)
	b.Run("accept", chromedp.Click(chromedp.CSS(`#accept-`+s)), chromedp.WaitVisible(chromedp.CSS(`#tasks-accepted li[data-id="`+s+`"]`)))
}

// Complete reports task id done with a note.
func (b *Browser) Complete(id int, note string) {
	b.T.Helper()
	s := strconv.Itoa(id)
	b.Run("complete",
		chromedp.SetValue(chromedp.CSS(`#complete-status-`+s), "resolved"),
		chromedp.SendKeys(chromedp.CSS(`#complete-note-`+s), note),
		chromedp.Click(chromedp.CSS(`#complete-`+s)),
		chromedp.WaitVisible(chromedp.CSS(`#tasks-completed li[data-id="`+s+`"]`)))
}

// WaitBalance waits until the wallet panel shows milli milli-credits.
func (b *Browser) WaitBalance(milli int, limit time.Duration) {
	b.T.Helper()
	b.RunFor("wait for the balance", limit, chromedp.WaitVisible(chromedp.CSS(`#wallet-balance[data-milli="`+strconv.Itoa(milli)+`"]`)))
}

// SignIn signs out whoever is in and signs user in.
func (b *Browser) SignIn(user, pass string) {
	b.T.Helper()
	b.Run("sign out", chromedp.Click(chromedp.CSS(`#sign-out`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
	b.Run("sign in as "+user,
		chromedp.SendKeys(chromedp.CSS(`#login-username`), user),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), pass),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami`)))
}

// AdminViews checks what an administrator (signed in) sees: the accounts,
// person userID among them, and the brain's decisions (proxied from the
// brain).
func (b *Browser) AdminViews(userID int) {
	b.T.Helper()
	b.Run("the administrator's views",
		chromedp.WaitVisible(chromedp.CSS(`#whoami[data-role="admin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#admin`)),
		chromedp.WaitVisible(chromedp.CSS(`#users-table tr[data-user="`+strconv.Itoa(userID)+`"]`)))
	b.RunFor("decisions", 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`#admin-decisions .decisions li`)))
}
