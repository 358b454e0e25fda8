// The template form: the hints of the kind chosen, as soon as it is chosen.
document.addEventListener("DOMContentLoaded", () => {
    const select = document.getElementById("id_kind");
    if (!select) return;
    const note = document.getElementById("template-hints-note");
    const show = () => {
        for (const hint of document.querySelectorAll(".message-hint[data-kind]")) {
            hint.hidden = hint.dataset.kind !== select.value;
        }
        if (note) note.hidden = Boolean(select.value);
    };
    select.addEventListener("change", show);
});
