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
    // "Add another kind" on an integration's page keeps the company chosen in its form
    // (the server puts the company the page was drawn with into the links already).
    function bindKeepsCompany() {
        for (const link of document.querySelectorAll("a.askpro-keeps-company")) {
            link.addEventListener("click", () => {
                const select = document.getElementById("id_company");
                if (select && select.value) {
                    const url = new URL(link.href);
                    url.searchParams.set("company", select.value);
                    link.href = url.toString();
                }
            });
        }
    }
    function bind() {
        bindLanguageSwitch();
        bindKeepsCompany();
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", bind);
    } else {
        bind();
    }
}
