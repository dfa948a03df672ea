// The console's script on every admin page (templates/admin/base_site.html). The
// Content-Security-Policy allows no inline script and no on…="" handler: behaviour is bound here.
"use strict";
{
    // The language switch submits its form as soon as another language is chosen (without
    // JavaScript the form shows its own button, see the <noscript> in base_site.html).
    function bindLanguageSwitch() {
        for (const select of document.querySelectorAll("form.askpro-language select")) {
            select.addEventListener("change", () => select.form.submit());
        }
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", bindLanguageSwitch);
    } else {
        bindLanguageSwitch();
    }
}
