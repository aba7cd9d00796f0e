// The web console in Firefox: Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core
// (playwright-core needs its own patched Firefox builds, which cannot be downloaded here). The
// console's moving parts, which depend most on the browser, are checked as in console.test.js:
// the sign-in URL and its cookie, the live stream (servers and a job's progress appear without
// a reload), keyboard use, a phone-width screen and signing out.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");

const puppeteer = require("puppeteer-core");
const { startEcsd, Automation, screenshot } = require("./ecsd.js");

let banner, sdk, browser, page; // as in console.test.js
let servers = [];

/** Waits until the page shows `text` somewhere in its body. */
async function text(wanted) {
  await page.waitForFunction((wanted) => document.body.innerText.includes(wanted), {}, wanted);
}

/** Goes to a view by its navigation link, as a person would. */
async function view(name) {
  await page.click(`#nav a[data-view="${name.toLowerCase()}"]`);
  await page.waitForFunction((name) => document.querySelector("h1")?.textContent === name, {}, name);
}

before(async () => {
  banner = await startEcsd();
  sdk = new Automation(banner);
  browser = await puppeteer.launch({ browser: "firefox", executablePath: "/usr/bin/firefox-esr", headless: true });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  page.setDefaultTimeout(15000);
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
});

after(async () => {
  if (browser) await browser.close();
  if (banner) banner.child.kill("SIGTERM");
});

test("Firefox: the banner's URL signs in, and leaves no token in the address bar", async () => {
  await page.goto(banner.consoleUrl);
  await page.waitForFunction(() => document.querySelector("h1")?.textContent === "Fleet");
  assert.equal(new URL(page.url()).search, "");
  await text(`project ${banner.projectId}`);
  await text("No servers match.");
  const cookies = await browser.cookies();
  assert.ok(cookies.length === 1 && cookies[0].httpOnly && cookies[0].sameSite === "Strict", JSON.stringify(cookies));
  await page.waitForSelector("#live.on");
});

test("Firefox: servers created with the SDK appear in the fleet without a reload", async () => {
  const created = await sdk.create("web", 3);
  servers = created.serverIds;
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-id]").length === 3);
  await text("1–3 of 3 servers");
  await sdk.waitJob(created.job_id);
  await page.waitForFunction(() => [...document.querySelectorAll("tbody tr[data-id] .badge")].every((b) => b.textContent === "ACTIVE"));
  await page.screenshot({ path: screenshot("fleet-firefox"), fullPage: true });
});

test("Firefox: a batch stop's job reaches SUCCESS in the jobs view", async () => {
  await view("Jobs");
  const jobId = await sdk.stop(servers);
  await page.waitForSelector(`#job-${jobId}[data-status="SUCCESS"]`);
  await text("3 of 3 sub-jobs done: 3 succeeded, 0 failed");
  const progress = await page.$eval(`#job-${jobId} [role="progressbar"]`, (bar) => bar.getAttribute("aria-valuenow"));
  assert.equal(progress, "3");
});

test("Firefox: the views are usable by keyboard and readable at phone width", async () => {
  await view("Fleet");
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "fleet-search");
  await page.focus('#nav a[data-view="jobs"]');
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("h1")?.textContent === "Jobs");
  await page.setViewport({ width: 390, height: 844 });
  await view("Fleet");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await page.setViewport({ width: 1280, height: 800 });
});

test("Firefox: signing out ends the session", async () => {
  await page.evaluate(() => [...document.querySelectorAll("button")].find((b) => b.textContent === "Sign out").click());
  await page.waitForFunction(() => [...document.querySelectorAll("button")].some((b) => b.textContent === "Sign in"));
  const answer = await page.evaluate(async () => (await fetch("/console/api/me")).status);
  assert.equal(answer, 401);
});
