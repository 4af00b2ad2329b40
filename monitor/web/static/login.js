// The login page only says when the last attempt failed.
if (new URLSearchParams(location.search).get("failed")) document.getElementById("failed").hidden = false;
