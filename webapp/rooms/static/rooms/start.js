// /room: join a room by its code, or start one as a teacher.
import { api } from "../descent/js/api.js";

const $ = (s) => document.querySelector(s);
$("#code-form").addEventListener("submit", (e) => {
  e.preventDefault();
  location.href = `/room/${encodeURIComponent($("#code").value.trim().toUpperCase())}`;
});
$("#new-room").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const room = await api.post("/api/rooms", { name: $("#room-name").value });
    $("#new-room-result").textContent = `Room ${room.code} created. Keep the teacher link secret: ${location.origin}${room.teacher_url}`;
    location.href = room.teacher_url;
  } catch (err) { $("#new-room-result").textContent = err.message; }
});
