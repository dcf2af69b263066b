// Sign-in: a pasted token, kept in sessionStorage only (this tab, gone when it closes), and
// who the API says it is, with the allowance left from the response headers.
import {
  api, escapeHtml, loading, ready, renderHeader, setToken, showError, showNote, token,
} from "./common.js";

renderHeader("signin.html");
const $ = (id) => document.getElementById(id);

async function whoAmI() {
  const section = $("user");
  if (!token()) return showNote(section, "Not signed in: you see public data only.");
  loading(section, "Asking the API who you are");
  try {
    const { data, headers } = await api("/gwas/user");
    const user = data.user || {};
    const shown = (v) =>
      Array.isArray(v) ? v.join(", ") || "none" : v === null || v === "" ? "—" : String(v);
    const rows = Object.entries(user)
      .filter(([k, v]) => k !== "allowance" && typeof v !== "object" || Array.isArray(v))
      .map(([k, v]) => `<tr><th>${escapeHtml(k.replace(/_/g, " "))}</th><td>${escapeHtml(shown(v))}</td></tr>`)
      .join("");
    const left = headers.get("x-allowance-remaining");
    const limit = headers.get("x-allowance-limit");
    section.innerHTML = `<p>${token() ? "Signed in." : "Not signed in: public data only."}</p>
      <div class="table-wrap"><table><tbody>${rows}${
        left !== null
          ? `<tr><th>allowance left</th><td id="allowance-left">${Number(left).toLocaleString()} of ${Number(limit).toLocaleString()}</td></tr>`
          : ""
      }</tbody></table></div>`;
    ready(section);
  } catch (error) {
    showError(section, error);
  }
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token").value.trim().replace(/^Bearer\s+/i, "");
  if (!value) return showNote($("user"), "Paste a token first.");
  setToken(value);
  $("token").value = "";
  renderHeader("signin.html");
  whoAmI();
});
$("signout").addEventListener("click", () => {
  setToken("");
  sessionStorage.removeItem("omicsgate.allowance");
  renderHeader("signin.html");
  whoAmI();
});
whoAmI();
