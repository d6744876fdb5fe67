// The texts of the public form's waitlist box (form-waitlist.js, loaded on the tap of
// "Notify me when back"): a buyer table like buyer.js, kept out of the form's first load.
import { addTexts } from "../i18n.js";

addTexts({
  en: {
    "form.w_quantity": "How many",
    "form.w_join": "Join the waitlist",
    "form.w_position": "You are number {n} in line. If units come back, the order is yours and we will let you know.",
    "form.w_served": "Units were back: the order is yours and we will let you know.",
  },
  "zh-Hant": {
    "form.w_quantity": "數量",
    "form.w_join": "加入候補",
    "form.w_position": "您是候補第 {n} 位。補貨時會直接為您下單並通知您。",
    "form.w_served": "剛好補貨：已為您下單，會再通知您。",
  },
});
