// The orders list's first page, asked as soon as index.html runs this (an async module
// script), while seller.js's modules still load and start; the orders view takes the answer
// through api.get when it asks the same (issue 27, "Speed on the local default").
import { askEarly, getToken } from "./api.js";
import { earlyOrdersQuery } from "./early.js";

const query = getToken() ? earlyOrdersQuery(location.search, location.hash) : null;
if (query) askEarly("/orders", query);
