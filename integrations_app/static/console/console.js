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
{
    // The branch select of the phone-number form lists the chosen company's branches only
    // (admin/phone_branches.py): reloaded from its data-askpro-branches endpoint when the
    // company changes, and chosen when the company has exactly one. The company may be the
    // admin's autocomplete (select2 announces a choice through jQuery, not a DOM event):
    // django.jQuery's handler hears both.
    let latest = 0;

    async function reloadBranches(branch, company) {
        const asked = ++latest;
        const previous = branch.value;
        const options = [new Option("---------", "")];
        if (company.value) {
            const url = new URL(branch.dataset.askproBranches, document.location.href);
            url.searchParams.set("company", company.value);
            const response = await fetch(url, {
                credentials: "same-origin",
                headers: {Accept: "application/json"},
            });
            if (!response.ok || asked !== latest) {
                return;
            }
            for (const row of (await response.json()).branches) {
                options.push(new Option(row.name, row.id));
            }
        }
        if (asked !== latest) {
            return;
        }
        branch.replaceChildren(...options);
        const keys = options.slice(1).map((option) => option.value);
        branch.value = keys.includes(previous) ? previous : keys.length === 1 ? keys[0] : "";
        branch.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function bindBranchSelects() {
        for (const branch of document.querySelectorAll("select[data-askpro-branches]")) {
            const company = branch.form && branch.form.elements.namedItem("company");
            if (!company || company === branch) {
                continue;
            }
            const reload = () => reloadBranches(branch, company);
            const jquery = window.django && window.django.jQuery;
            if (jquery) {
                jquery(company).on("change", reload);
            } else {
                company.addEventListener("change", reload);
            }
        }
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", bindBranchSelects);
    } else {
        bindBranchSelects();
    }
}
