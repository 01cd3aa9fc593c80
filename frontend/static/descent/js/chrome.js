// Page chrome every page gets from base.html: the projector toggle.
import { initProjector } from "./common.js";

initProjector(document.getElementById("projector-toggle"));
