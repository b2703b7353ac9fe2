"""The set-based SQL of `bench/generate.py`, one constant per step.

Conventions:

* `{name}` is a number (or an id) the generator computes and formats in; `%(name)s` is a psycopg
  parameter (arrays of words, message templates). Because of the latter, no statement uses a
  literal percent sign: `mod()` stands for the operator.
* Every random draw is `pg_temp.u(key, salt)`, a hash of the row's key, uniform in [0, 1): the
  same seed gives the same data whatever the plan or the order of the rows.
* Times are seconds since the epoch (float8) in the `bench_*` staging tables and become
  timestamptz (`pg_temp.ts`) on the way into the app's tables. Days are days in Asia/Tokyo.
* A request's whole life is planned first (submission, review, each lender's order and answer,
  arrival, pick-up, loan, return); what lies after `{T}` (the moment of generation) is then cut off,
  and the state, the candidate lenders, the charge and the history are what they are at `{T}`.
"""

FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.u(bigint, integer) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended($1, $2::bigint * 7919 + {seed}) & 140737488355327)::float8 / 140737488355328.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.ts(float8) RETURNS timestamptz LANGUAGE sql IMMUTABLE
AS $$ SELECT to_timestamp($1) $$;
CREATE OR REPLACE FUNCTION pg_temp.day(float8) RETURNS integer LANGUAGE sql IMMUTABLE
AS $$ SELECT floor(($1 + 32400) / 86400)::integer $$;
CREATE OR REPLACE FUNCTION pg_temp.ldate(float8) RETURNS date LANGUAGE sql IMMUTABLE
AS $$ SELECT date '1970-01-01' + pg_temp.day($1) $$;
CREATE OR REPLACE FUNCTION pg_temp.at(date, float8) RETURNS float8 LANGUAGE sql IMMUTABLE
AS $$ SELECT ($1 - date '1970-01-01') * 86400.0 - 32400 + $2 * 3600 $$;
CREATE OR REPLACE FUNCTION pg_temp.fy(float8) RETURNS integer LANGUAGE sql IMMUTABLE
AS $$ SELECT extract(year FROM pg_temp.ldate($1) - interval '3 months')::integer $$;
CREATE OR REPLACE FUNCTION pg_temp.yen(bigint) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT to_char($1, 'FM999,999,999,990') $$;
CREATE OR REPLACE FUNCTION pg_temp.pick(text[], float8) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT $1[1 + floor($2 * cardinality($1))::integer] $$;
CREATE OR REPLACE FUNCTION pg_temp.isbn13(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT $1 || mod(10 - mod(sum(substr($1, i, 1)::integer * (CASE WHEN mod(i, 2) = 1 THEN 1 ELSE 3 END)), 10), 10)
  FROM generate_series(1, 12) i $$;
"""

DROP_STAGING = """
DO $$ DECLARE t text; BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'bench\\_%' LOOP
    EXECUTE format('DROP TABLE %I', t);
  END LOOP;
END $$;
"""

# --- lenders ------------------------------------------------------------------------------

LENDERS = """
INSERT INTO ill_lendinginstitution (code, name, name_en, kind, is_offset_participant, accepts_public_expense,
    supports_express, supports_fax, payment_methods, loan_period_days, country, contact_name, email, phone, fax,
    address, notes, active)
SELECT code, name, name_en, kind, offset_, offset_, express, fax, payment, period, country, '',
    'ill@' || lower(code) || '.example.ac.jp', '', '', '', '', active
FROM unnest(%(code)s::text[], %(name)s::text[], %(name_en)s::text[], %(kind)s::text[], %(offset)s::bool[],
    %(express)s::bool[], %(fax)s::bool[], %(payment)s::text[], %(period)s::int[], %(country)s::text[],
    %(active)s::bool[])
    AS t(code, name, name_en, kind, offset_, express, fax, payment, period, country, active)
"""

FEE_SCHEDULES = """
INSERT INTO fees_feeschedule (lender_id, mono_price, colour_price, handling_fee_per_item, postage_per_shipment,
    express_surcharge, fax_fee_mode, fax_fee_per_page, fax_fee_fixed, bank_transfer_fee, tax_rate_percent,
    tax_included, overseas_flat_fee_per_item, overseas_fax_surcharge, loan_fee_mode, loan_fee,
    loan_express_surcharge, notes, updated_at)
SELECT l.id, s.mono, s.colour, s.handling, s.postage, s.express, s.fax_mode, s.fax_pp, s.fax_fixed, s.bank, 10, true,
    s.oflat, s.ofax, s.loan_mode, s.loan_fee, s.loan_express, '', now()
FROM unnest(%(code)s::text[], %(mono)s::int[], %(colour)s::int[], %(handling)s::int[], %(postage)s::int[],
    %(express)s::int[], %(fax_mode)s::text[], %(fax_pp)s::int[], %(fax_fixed)s::int[], %(bank)s::int[],
    %(oflat)s::int[], %(ofax)s::int[], %(loan_mode)s::text[], %(loan_fee)s::int[], %(loan_express)s::int[])
    AS s(code, mono, colour, handling, postage, express, fax_mode, fax_pp, fax_fixed, bank, oflat, ofax, loan_mode,
         loan_fee, loan_express)
JOIN ill_lendinginstitution l ON l.code = s.code
"""

PAPER_PRICES = """
INSERT INTO fees_papersizeprice (schedule_id, paper_size, mono_price, colour_price)
SELECT f.id, 'A3', p.mono, p.colour
FROM unnest(%(code)s::text[], %(mono)s::int[], %(colour)s::int[]) AS p(code, mono, colour)
JOIN ill_lendinginstitution l ON l.code = p.code JOIN fees_feeschedule f ON f.lender_id = l.id
"""

# Every lender with what pricing needs; `pop` orders them by popularity (the NDL, then the demo's
# university, then the generated ones in their shuffled order).
BENCH_LENDER = """
CREATE UNLOGGED TABLE bench_lender AS
SELECT l.id, l.code, l.name, l.kind, l.kind <> 'overseas' AS domestic, l.is_offset_participant AS offset_,
    l.kind IN ('jp_university', 'ndl', 'jp_research') AS support_ok, l.supports_express, l.supports_fax,
    l.loan_period_days, l.active, f.id AS schedule_id, f.mono_price, f.colour_price, f.handling_fee_per_item,
    f.postage_per_shipment, f.express_surcharge, f.fax_fee_mode, f.fax_fee_per_page, f.fax_fee_fixed,
    f.bank_transfer_fee, f.overseas_flat_fee_per_item, f.overseas_fax_surcharge, f.loan_fee_mode, f.loan_fee,
    f.loan_express_surcharge,
    row_number() OVER (ORDER BY CASE l.code WHEN 'NDL' THEN 0 WHEN 'FA004321' THEN 1 WHEN 'KLNET' THEN 2 ELSE 3 END,
                                pg_temp.u(l.id, 301)) AS pop
FROM ill_lendinginstitution l JOIN fees_feeschedule f ON f.lender_id = l.id;

-- Pools of lenders a request may be ordered from (ill.services.ordering.check_lender, support.reserve):
-- 0 public expense in Japan, 1 public expense overseas allowed, 2 private in Japan, 3 private overseas
-- allowed, 4 the student support budget (qualifying lenders only).
CREATE UNLOGGED TABLE bench_pool AS
SELECT pool, ids, cardinality(ids) AS len FROM (
  SELECT 0 AS pool, array_agg(id ORDER BY pop) FILTER (WHERE active AND offset_ AND domestic) AS ids FROM bench_lender
  UNION ALL SELECT 1, array_agg(id ORDER BY pop) FILTER (WHERE active AND offset_) FROM bench_lender
  UNION ALL SELECT 2, array_agg(id ORDER BY pop) FILTER (WHERE active AND domestic) FROM bench_lender
  UNION ALL SELECT 3, array_agg(id ORDER BY pop) FILTER (WHERE active) FROM bench_lender
  UNION ALL SELECT 4, array_agg(id ORDER BY pop) FILTER (WHERE active AND support_ok) FROM bench_lender
) p;
"""

# --- laboratories, patrons, logins ------------------------------------------------------------

LABS = """
INSERT INTO patrons_laboratory (id, name, name_en, department, supervisor_id, campus_mail_address, active)
SELECT {lab0} + i + 1,
    CASE WHEN i = 0 THEN 'ベンチマーク研究室'
         ELSE (%(topics_ja)s::text[])[1 + mod(i, {ntopics})] || '研究室'
              || CASE WHEN i > {ntopics} THEN ' ' || (i / {ntopics} + 1) ELSE '' END END,
    CASE WHEN i = 0 THEN 'Benchmark Lab'
         ELSE initcap((%(topics_en)s::text[])[1 + mod(i, {ntopics})]) || ' Lab'
              || CASE WHEN i > {ntopics} THEN ' ' || (i / {ntopics} + 1) ELSE '' END END,
    (%(dept_ja)s::text[])[1 + mod(i, 8)] || ' / ' || (%(dept_en)s::text[])[1 + mod(i, 8)],
    NULL,
    (%(dept_ja)s::text[])[1 + mod(i, 8)] || '棟 ' || (1 + mod(i, 6)) || 'F ' || (100 + i),
    true
FROM generate_series(0, {NL} - 1) i
"""

# One row per generated patron (i > 0); the dashboard patron (i = 0) and the submission
# benchmark's patrons (i < 0) are created through the ORM and added afterwards with weight 0.
BENCH_PATRON = """
CREATE UNLOGGED TABLE bench_patron AS
WITH b AS (
  SELECT i, pg_temp.u(i, 101) AS uc, pg_temp.u(i, 102) AS ul, pg_temp.u(i, 103) < 0.08 AS foreign_name,
      1 + floor(pg_temp.u(i, 104) * cardinality(%(s_kanji)s::text[]))::int AS s,
      1 + floor(pg_temp.u(i, 105) * cardinality(%(g_kanji)s::text[]))::int AS g,
      1 + floor(pg_temp.u(i, 106) * cardinality(%(f_full)s::text[]))::int AS f
  FROM generate_series(1, {P}) i
), c AS (
  SELECT b.*, CASE WHEN uc < 0.40 THEN 'undergraduate' WHEN uc < 0.52 THEN 'undergraduate_final'
      WHEN uc < 0.67 THEN 'masters' WHEN uc < 0.74 THEN 'doctoral' WHEN uc < 0.88 THEN 'faculty' ELSE 'staff' END
      AS category
  FROM b
), d AS (
  SELECT c.*,
      CASE WHEN category IN ('undergraduate_final', 'masters', 'doctoral', 'faculty')
           THEN 1 + floor(ul * ({NL} - 1))::int END AS lab_idx
  FROM c
), e AS (
  SELECT d.*,
      CASE WHEN lab_idx IS NOT NULL THEN mod(lab_idx, 8)
           WHEN category = 'undergraduate' THEN floor(pg_temp.u(i, 109) * 8)::int END AS dept
  FROM d
)
SELECT i, {patron0} + i AS id, {user0} + i AS user_id, category, lab_idx,
    CASE category WHEN 'undergraduate' THEN 'U' || (24 + floor(pg_temp.u(i, 107) * 3)::int)
        WHEN 'undergraduate_final' THEN 'U23' WHEN 'masters' THEN 'M' || (25 + floor(pg_temp.u(i, 107) * 2)::int)
        WHEN 'doctoral' THEN 'D' || (22 + floor(pg_temp.u(i, 107) * 5)::int) WHEN 'faculty' THEN 'F00' ELSE 'S00' END
      || lpad((10000 + i)::text, 5, '0') AS number,
    CASE WHEN foreign_name THEN (%(f_full)s::text[])[f]
         ELSE (%(s_kanji)s::text[])[s] || ' ' || (%(g_kanji)s::text[])[g] END AS full_name,
    CASE WHEN foreign_name THEN (%(f_kana)s::text[])[f]
         ELSE (%(s_kana)s::text[])[s] || ' ' || (%(g_kana)s::text[])[g] END AS kana,
    CASE WHEN foreign_name THEN (%(f_given)s::text[])[f] ELSE (%(g_romaji)s::text[])[g] END AS first_name,
    CASE WHEN foreign_name THEN (%(f_family)s::text[])[f] ELSE (%(s_romaji)s::text[])[s] END AS last_name,
    CASE WHEN foreign_name OR pg_temp.u(i, 108) < 0.02 THEN 'en' ELSE 'ja' END AS language,
    CASE WHEN dept IS NULL THEN '附属図書館・事務局 / Library and administration'
         ELSE (%(dept_ja)s::text[])[dept + 1] || ' / ' || (%(dept_en)s::text[])[dept + 1] END AS department,
    CASE WHEN dept = 1 OR (category = 'staff' AND pg_temp.u(i, 110) < 0.25) THEN {medical} ELSE {central} END
      AS home_branch,
    pg_temp.u(i, 111) < 0.002 AS blocked,
    CASE WHEN pg_temp.u(i, 111) < 0.002 THEN pg_temp.pick(%(block_reasons)s::text[], pg_temp.u(i, 112)) ELSE '' END
      AS block_reason,
    (CASE category WHEN 'undergraduate' THEN 1 WHEN 'undergraduate_final' THEN 2 WHEN 'masters' THEN 3
        WHEN 'doctoral' THEN 6 WHEN 'faculty' THEN 5 ELSE 1 END)
      * (CASE WHEN pg_temp.u(i, 113) < 0.1 THEN 4 ELSE 1 END) AS w,
    {T} - 86400 * 365 * (0.3 + 9.5 * pg_temp.u(i, 114)) AS joined
FROM e;
ALTER TABLE bench_patron ADD COLUMN email text;
UPDATE bench_patron SET email = lower(number) || '@example.ac.jp';
"""

SPECIAL_PATRONS = """
INSERT INTO bench_patron (i, id, user_id, category, lab_idx, number, full_name, kana, first_name, last_name, language,
    department, home_branch, blocked, block_reason, w, joined, email)
SELECT t.i, p.id, p.user_id, p.category, t.lab_idx, p.patron_number, p.full_name, p.full_name_kana, '', '',
    p.preferred_language, p.department, p.home_branch_id, false, '', 0, {t0}, u.email
FROM unnest(%(i)s::int[], %(id)s::bigint[], %(lab_idx)s::int[]) AS t(i, id, lab_idx)
JOIN patrons_patron p ON p.id = t.id JOIN auth_user u ON u.id = p.user_id
"""

USERS = """
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
    is_active, date_joined)
SELECT user_id, '!' || md5('ill-bench-' || i), NULL, false, lower(number), first_name, last_name,
    lower(number) || '@example.ac.jp', false, true, pg_temp.ts(joined)
FROM bench_patron WHERE i > 0 ORDER BY i
"""

PATRONS = """
INSERT INTO patrons_patron (id, user_id, patron_number, full_name, full_name_kana, category, department, laboratory_id,
    home_branch_id, preferred_language, phone, blocked, block_reason, created_at, updated_at)
SELECT id, user_id, number, full_name, kana, category, department, {lab0} + lab_idx + 1, home_branch, language, '',
    blocked, block_reason, pg_temp.ts(joined), pg_temp.ts(joined)
FROM bench_patron WHERE i > 0 ORDER BY i;

UPDATE patrons_laboratory l SET supervisor_id = s.id
FROM (SELECT DISTINCT ON (lab_idx) lab_idx, id FROM bench_patron
      WHERE category = 'faculty' AND lab_idx IS NOT NULL ORDER BY lab_idx, i) s
WHERE l.id = {lab0} + s.lab_idx + 1;

INSERT INTO patrons_patronevent (patron_id, action, actor_id, note, data, created_at)
SELECT id, 'blocked', {admin}, block_reason, jsonb_build_object('reason', block_reason),
    pg_temp.ts({T} - 86400 * (5 + 300 * pg_temp.u(i, 115)))
FROM bench_patron WHERE blocked ORDER BY 6;

-- Who asks how often: each patron holds `w` tickets; a request draws one.
CREATE UNLOGGED TABLE bench_ticket AS
WITH c AS (SELECT i, w, sum(w) OVER (ORDER BY i) - w AS start FROM bench_patron WHERE w > 0)
SELECT (start + k - 1)::int AS t, i FROM c, generate_series(1, w) k;
CREATE UNIQUE INDEX ON bench_ticket (t);
"""

# --- budget codes and the student support budget -------------------------------------------------

BUDGETS = """
CREATE UNLOGGED TABLE bench_grant AS
SELECT (row_number() OVER (ORDER BY pg_temp.u(i, 120)) - 1)::int AS g, i, id AS patron_id, lab_idx
FROM bench_patron WHERE category = 'faculty' AND i > 0 ORDER BY pg_temp.u(i, 120) LIMIT {G};

CREATE UNLOGGED TABLE bench_bc AS
SELECT {bc0} + (fy - {fy0}) * {NL} + lab_idx + 1 AS id, fy, 'public' AS kind, lab_idx, NULL::int AS g, true AS usable
FROM generate_series({fy0}, {fy_now}) fy, generate_series(0, {NL} - 1) lab_idx
UNION ALL
SELECT {bc0} + {nfy} * {NL} + (fy - {fy0}) * {G} + gr.g + 1, fy, 'grant', gr.lab_idx, gr.g,
    pg_temp.u(fy * 1000 + gr.g, 121) >= 0.05
FROM generate_series({fy0}, {fy_now}) fy, bench_grant gr;

INSERT INTO fees_budgetcode (id, code, name, kind, fiscal_year, responsible_id, laboratory_id, "limit", usable_for_ill,
    active, created_at)
SELECT b.id,
    CASE b.kind WHEN 'public' THEN b.fy || '-' || (%(dept_code)s::text[])[1 + mod(b.lab_idx, 8)] || '-'
                                   || lpad(b.lab_idx::text, 4, '0')
         ELSE 'KAKENHI-' || mod(b.fy, 100) || 'K' || lpad((10000 + b.g)::text, 5, '0') END,
    CASE b.kind WHEN 'public' THEN l.name || ' 運営費 / ' || l.name_en || ' running costs'
         WHEN 'grant' THEN CASE WHEN b.usable THEN '科研費 基盤研究(C) / KAKENHI (C)'
                                ELSE '科研費(ILL不可) / KAKENHI (not for ILL)' END END,
    b.kind, b.fy, CASE b.kind WHEN 'public' THEN coalesce(l.supervisor_id, {any_faculty}) ELSE gr.patron_id END,
    CASE b.kind WHEN 'public' THEN l.id END, NULL, b.usable, true,
    make_timestamptz(b.fy, 4, 1, 9, 0, 0, 'Asia/Tokyo')
FROM bench_bc b LEFT JOIN patrons_laboratory l ON l.id = {lab0} + b.lab_idx + 1
LEFT JOIN bench_grant gr ON gr.g = b.g
ORDER BY b.id;

INSERT INTO fees_budgetcode_members (budgetcode_id, patron_id)
SELECT b.id, gr.patron_id FROM bench_bc b JOIN bench_grant gr ON gr.g = b.g WHERE b.kind = 'grant'
UNION ALL
SELECT b.id, p.id FROM bench_bc b JOIN bench_grant gr ON gr.g = b.g
JOIN bench_patron p ON p.lab_idx = gr.lab_idx AND p.category = 'doctoral' AND pg_temp.u(p.i, 122) < 0.3
WHERE b.kind = 'grant';

INSERT INTO fees_supportbudget (fiscal_year, total, per_student_cap, is_open)
SELECT fy, 300000, 5, true FROM generate_series({fy0}, {fy_now}) fy
WHERE NOT EXISTS (SELECT 1 FROM fees_supportbudget s WHERE s.fiscal_year = fy);

CREATE UNLOGGED TABLE bench_sb AS SELECT id, fiscal_year AS fy FROM fees_supportbudget;
"""

# --- what is asked for: books and articles -------------------------------------------------------

CATALOGUE = """
CREATE UNLOGGED TABLE bench_book AS
SELECT b, jp,
    CASE WHEN jp THEN (%(topics_ja)s::text[])[t] || 'の' || pg_temp.pick(%(nouns)s::text[], pg_temp.u(b, 203))
              || CASE WHEN pg_temp.u(b, 204) < 0.3
                      THEN '―' || pg_temp.pick(%(subtitles)s::text[], pg_temp.u(b, 205)) || '―' ELSE '' END
         ELSE format(pg_temp.pick(%(patterns)s::text[], pg_temp.u(b, 206)), (%(topics_en)s::text[])[t]) END AS title,
    CASE WHEN jp THEN pg_temp.pick(%(s_kanji)s::text[], pg_temp.u(b, 207))
                      || pg_temp.pick(%(g_kanji)s::text[], pg_temp.u(b, 208))
         ELSE pg_temp.pick(%(western)s::text[], pg_temp.u(b, 207)) END AS author,
    CASE WHEN jp THEN pg_temp.pick(%(publishers_ja)s::text[], pg_temp.u(b, 209))
         ELSE pg_temp.pick(%(publishers_en)s::text[], pg_temp.u(b, 209)) END AS publisher,
    2015 - floor(60 * pg_temp.u(b, 210) ^ 2)::int AS pub_year,
    CASE WHEN pg_temp.u(b, 211) < 0.8
         THEN pg_temp.isbn13('978' || CASE WHEN jp THEN '4' ELSE '0' END || lpad((10000000 + b)::text, 8, '0'))
         ELSE '' END AS isbn,
    CASE WHEN pg_temp.u(b, 212) < 0.6
         THEN 'B' || chr(65 + floor(pg_temp.u(b, 213) * 26)::int) || lpad((20000000 + b)::text, 8, '0')
         ELSE '' END AS ncid,
    CASE WHEN pg_temp.u(b, 214) < 0.12 THEN CASE WHEN jp THEN '第2版' ELSE '2nd ed.' END ELSE '' END AS edition,
    CASE WHEN pg_temp.u(b, 215) < 0.04 THEN 'thesis' WHEN pg_temp.u(b, 215) < 0.08 THEN 'proceedings'
         ELSE 'book' END AS material
FROM (SELECT b, pg_temp.u(b, 201) < 0.6 AS jp, 1 + floor(pg_temp.u(b, 202) * {ntopics})::int AS t
      FROM generate_series(0, {NB} - 1) b) x;
CREATE UNIQUE INDEX ON bench_book (b);

CREATE UNLOGGED TABLE bench_article AS
SELECT a, j, jp,
    CASE WHEN jp THEN CASE floor(pg_temp.u(a, 230) * 3)::int
                        WHEN 0 THEN (%(topics_ja)s::text[])[t] || 'における' || (%(aspects_ja)s::text[])[s] || 'の検討'
                        WHEN 1 THEN (%(aspects_ja)s::text[])[s] || 'からみた' || (%(topics_ja)s::text[])[t]
                        ELSE (%(topics_ja)s::text[])[t] || 'の' || (%(aspects_ja)s::text[])[s] || 'に関する研究' END
         ELSE CASE floor(pg_temp.u(a, 230) * 3)::int
                WHEN 0 THEN 'A study of ' || (%(aspects_en)s::text[])[s] || ' in ' || (%(topics_en)s::text[])[t]
                WHEN 1 THEN initcap((%(topics_en)s::text[])[t]) || ' and ' || (%(aspects_en)s::text[])[s]
                            || ': evidence from Japan'
                ELSE 'Toward a new account of ' || (%(aspects_en)s::text[])[s] || ' in '
                     || (%(topics_en)s::text[])[t] END END AS article_title,
    CASE WHEN jp THEN pg_temp.pick(%(s_kanji)s::text[], pg_temp.u(a, 231))
                      || pg_temp.pick(%(g_kanji)s::text[], pg_temp.u(a, 232))
         ELSE pg_temp.pick(%(western)s::text[], pg_temp.u(a, 231)) END AS article_author,
    (%(journals)s::text[])[j + 1] AS journal_title, (%(issns)s::text[])[j + 1] AS issn,
    year, (year - 1965)::text AS volume, issue, start_page, page_count,
    start_page || '-' || (start_page + page_count - 1) AS pages,
    CASE WHEN pg_temp.u(a, 233) < 0.7 THEN '10.' || (5000 + j) || '/bench.' || a ELSE '' END AS doi,
    (ARRAY['monthly', 'quarterly', 'bimonthly', 'weekly'])[1 + mod(j, 4)] AS frequency,
    make_date(year, issue, 1) AS issue_date
FROM (SELECT a, floor(pg_temp.u(a, 221) * {njournals})::int AS j,
          1 + floor(pg_temp.u(a, 222) * {ntopics})::int AS t,
          1 + floor(pg_temp.u(a, 223) * cardinality(%(aspects_ja)s::text[]))::int AS s,
          2015 - floor(45 * pg_temp.u(a, 224) ^ 2)::int AS year, 1 + floor(pg_temp.u(a, 225) * 12)::int AS issue,
          1 + floor(pg_temp.u(a, 226) * 900)::int AS start_page,
          2 + floor(30 * pg_temp.u(a, 227) ^ 1.5)::int AS page_count
      FROM generate_series(0, {NA} - 1) a) x
CROSS JOIN LATERAL (SELECT j < {njp} AS jp) y;
CREATE UNIQUE INDEX ON bench_article (a);
"""

# --- the requests' plan ----------------------------------------------------------------------------

# Who asks, when, for what, how it will end. Submission times grow slowly over the years (the rate
# at the end is 2.5 times the rate at the start); one request in `stride` goes to the dashboard patron.
PLAN_BASE = """
CREATE UNLOGGED TABLE bench_r1 AS
WITH g AS (
  SELECT n, {r0} + n AS id,
      {t0} + {span} * (sqrt(1 + 5.25 * ((n - 1 + pg_temp.u(n, 1)) / {N}::float8)) - 1) / 1.5 AS sub,
      ({stride} > 0 AND mod(n - 1, {stride}) = {off} AND (n - 1) / {stride} < {dash_n}) AS special
  FROM generate_series(1, {N}) n
)
SELECT g.n, g.id, g.sub, pg_temp.fy(g.sub) AS fy,
    pa.id AS patron_id, pa.user_id, pa.i AS patron_i, pa.category, pa.lab_idx, pa.home_branch, pa.language, pa.email,
    CASE WHEN pg_temp.u(g.n, 3) < 0.48 THEN 'loan' ELSE 'copy' END AS kind,
    CASE WHEN pg_temp.u(g.n, 11) < 0.03 THEN 'cancel' WHEN pg_temp.u(g.n, 11) < 0.07 THEN 'reject'
         WHEN pg_temp.u(g.n, 11) < 0.105 THEN 'unfilled' ELSE 'arrive' END AS outcome,
    CASE WHEN pg_temp.u(g.n, 14) < 0.40 THEN 1 WHEN pg_temp.u(g.n, 14) < 0.65 THEN 2
         WHEN pg_temp.u(g.n, 14) < 0.83 THEN 3 WHEN pg_temp.u(g.n, 14) < 0.93 THEN 4 ELSE 5 END AS n_cand,
    CASE WHEN pg_temp.u(g.n, 15) < 0.85 THEN 0 WHEN pg_temp.u(g.n, 15) < 0.96 THEN 1
         WHEN pg_temp.u(g.n, 15) < 0.99 THEN 2 ELSE 3 END AS hop_draw,
    86400 * (2 + 8 * pg_temp.u(g.n, 16)) AS d_hop,
    g.sub + 3600 * (0.5 + 40 * pg_temp.u(g.n, 18) ^ 2) AS t_rv,
    g.sub + 3600 * (0.1 + 30 * pg_temp.u(g.n, 20)) AS t_cancel,
    pg_temp.pick(%(reject_reasons)s::text[], pg_temp.u(g.n, 21)) AS reject_reason,
    pg_temp.u(g.n, 22) < 0.03 AS by_staff,
    floor({NB} * pg_temp.u(g.n, 23) ^ 1.5)::int AS book,
    floor({NA} * pg_temp.u(g.n, 24) ^ 1.3)::int AS article
FROM g
LEFT JOIN bench_ticket t ON NOT g.special AND t.t = floor(pg_temp.u(g.n, 2) * {W})::int
JOIN bench_patron pa ON pa.i = CASE WHEN g.special THEN 0 ELSE t.i END
"""

# Who pays, which budget code, support, delivery, scope, the lender pool, the review and the order.
PLAN = """
CREATE UNLOGGED TABLE bench_r AS
SELECT r.*,
    e.expense,
    CASE e.expense WHEN 'grant' THEN gbc.id WHEN 'public' THEN {bc0} + (r.fy - {fy0}) * {NL} + r.lab_idx + 1 END
      AS code_id,
    e.cannot_use,
    CASE WHEN e.support_candidate
              AND row_number() OVER (PARTITION BY r.patron_id, r.fy, e.support_candidate ORDER BY r.n) <= 5
         THEN sb.id END AS support_id,
    CASE WHEN pg_temp.u(r.n, 4) < CASE r.kind WHEN 'copy' THEN 0.08 ELSE 0.03 END
         THEN 'overseas' ELSE 'domestic' END AS scope,
    CASE WHEN r.kind = 'copy' THEN CASE WHEN pg_temp.u(r.n, 7) < 0.15 THEN 'fax' WHEN pg_temp.u(r.n, 7) < 0.30
                                        THEN 'express' ELSE 'mail' END
         WHEN pg_temp.u(r.n, 7) < 0.02 THEN 'express' ELSE 'mail' END AS delivery,
    CASE WHEN r.kind = 'loan' OR pg_temp.u(r.n, 25) < 0.90 THEN 'A4' WHEN pg_temp.u(r.n, 25) < 0.95 THEN 'A3'
         WHEN pg_temp.u(r.n, 25) < 0.98 THEN 'B5' ELSE 'B4' END AS paper,
    CASE WHEN e.expense = 'private' AND r.n_cand = 1 AND pg_temp.u(r.n, 8) < 0.1
         THEN (ARRAY[500, 1000, 2000, 3000])[1 + floor(pg_temp.u(r.n, 9) * 4)::int] END AS max_cost,
    CASE r.outcome WHEN 'arrive' THEN least(r.hop_draw, r.n_cand - 1) WHEN 'unfilled' THEN r.n_cand ELSE 0 END AS hops,
    CASE r.outcome WHEN 'arrive' THEN least(r.hop_draw, r.n_cand - 1) + 1 WHEN 'unfilled' THEN r.n_cand ELSE 0 END
      AS k_last,
    r.outcome = 'unfilled' AND pg_temp.u(r.n, 12) < 0.15 AS nn,
    r.outcome = 'arrive' AND pg_temp.u(r.n, 13) < 0.015 AS nc,
    r.outcome IN ('arrive', 'unfilled') AND pg_temp.u(r.n, 17) < 0.7 AS reviewed,
    CASE WHEN r.outcome IN ('arrive', 'unfilled') AND pg_temp.u(r.n, 17) < 0.7
         THEN r.t_rv + 3600 * (0.2 + 20 * pg_temp.u(r.n, 19)) ELSE r.t_rv END AS t_o1,
    CASE WHEN pg_temp.u(r.n, 26) < 0.05 THEN {central} + {medical} - r.home_branch ELSE r.home_branch END AS branch_id,
    r.kind = 'copy' AND pg_temp.u(r.n, 30) < 0.15 AS chapter
FROM bench_r1 r
LEFT JOIN bench_grant gr ON gr.i = r.patron_i
LEFT JOIN bench_bc gbc ON gbc.kind = 'grant' AND gbc.g = gr.g AND gbc.fy = r.fy
LEFT JOIN bench_sb sb ON sb.fy = r.fy
CROSS JOIN LATERAL (
  SELECT x.expense,
      x.expense = 'private' AND r.category IN ('undergraduate_final', 'masters', 'doctoral')
        AND pg_temp.u(r.n, 6) < 0.3 AS cannot_use,
      x.expense = 'private' AND (r.category = 'undergraduate' OR (r.category IN ('undergraduate_final', 'masters',
        'doctoral') AND pg_temp.u(r.n, 6) < 0.3)) AS support_candidate
  FROM (SELECT CASE r.category
      WHEN 'faculty' THEN CASE WHEN gbc.usable AND pg_temp.u(r.n, 5) < 0.35 THEN 'grant'
                               WHEN pg_temp.u(r.n, 5) < 0.85 THEN 'public' ELSE 'private' END
      WHEN 'doctoral' THEN CASE WHEN pg_temp.u(r.n, 5) < 0.4 THEN 'public' ELSE 'private' END
      WHEN 'masters' THEN CASE WHEN pg_temp.u(r.n, 5) < 0.3 THEN 'public' ELSE 'private' END
      WHEN 'undergraduate_final' THEN CASE WHEN pg_temp.u(r.n, 5) < 0.2 THEN 'public' ELSE 'private' END
      ELSE 'private' END AS expense) x
) e;
DROP TABLE bench_r1;
ALTER TABLE bench_r ADD COLUMN pool int, ADD COLUMN nna date;
-- The patron's "not needed after": for an unfilled request closed as no longer needed, the day after its
-- last order (its last lender answers after it); for some others, one to five months after the last order.
UPDATE bench_r SET pool = CASE WHEN support_id IS NOT NULL THEN 4
        WHEN expense <> 'private' THEN CASE scope WHEN 'domestic' THEN 0 ELSE 1 END
        ELSE CASE scope WHEN 'domestic' THEN 2 ELSE 3 END END,
    nna = CASE WHEN nn THEN pg_temp.ldate(t_o1 + (k_last - 1) * (d_hop + 1)) + 1
        WHEN outcome IN ('arrive', 'unfilled') AND pg_temp.u(n, 92) < 0.2
        THEN pg_temp.ldate(t_o1 + (k_last - 1) * (d_hop + 1)) + 30 + floor(120 * pg_temp.u(n, 93))::int END;
CREATE UNIQUE INDEX ON bench_r (id);
"""

# The single-item price of a request at a lender (fees.calculator for one item; None when the
# lender quotes loans case by case), as an expression over a bench_lender row `l` and a request's
# kind, shipping, pages, colour pages and page prices.
SINGLE_PRICE = """
CASE
  WHEN {kind} = 'loan' THEN CASE l.loan_fee_mode WHEN 'free' THEN 0 WHEN 'quote' THEN NULL
       ELSE l.loan_fee + CASE WHEN {ship} = 'express' THEN l.loan_express_surcharge ELSE 0 END END
  WHEN NOT l.domestic THEN l.overseas_flat_fee_per_item
       + CASE WHEN {ship} = 'fax' THEN l.overseas_fax_surcharge ELSE 0 END
       + l.handling_fee_per_item + l.bank_transfer_fee
       + CASE WHEN {ship} = 'express' THEN l.express_surcharge ELSE 0 END
  ELSE {mono} * ({pages} - {colour}) + {colour_price} * {colour}
       + CASE WHEN {ship} = 'fax' THEN CASE l.fax_fee_mode WHEN 'per_page' THEN l.fax_fee_per_page * {pages}
                                                          WHEN 'fixed' THEN l.fax_fee_fixed ELSE 0 END
              ELSE l.postage_per_shipment END
       + l.handling_fee_per_item + l.bank_transfer_fee
       + CASE WHEN {ship} = 'express' THEN l.express_surcharge ELSE 0 END
END
"""

# The shipping method a lender can do (ill.services.ordering.shipping_for).
SHIPPING = """
CASE WHEN r.delivery = 'fax' AND NOT l.supports_fax THEN CASE WHEN l.supports_express THEN 'express' ELSE 'mail' END
     WHEN r.delivery = 'express' AND NOT l.supports_express THEN 'mail' ELSE r.delivery END
"""

# Bibliographic data; the copy's pages and colour pages.
PLAN_ITEMS = """
CREATE UNLOGGED TABLE bench_item AS
SELECT r.id,
    CASE WHEN r.kind = 'loan' THEN b.material WHEN r.chapter THEN 'chapter' ELSE 'article' END AS material,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.title ELSE a.journal_title END AS title,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.author ELSE '' END AS author,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.publisher ELSE '' END AS publisher,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.pub_year ELSE a.year END AS pub_year,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.edition ELSE '' END AS edition,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.isbn ELSE '' END AS isbn,
    CASE WHEN r.kind = 'copy' AND NOT r.chapter THEN a.issn ELSE '' END AS issn,
    CASE WHEN r.kind = 'loan' OR r.chapter THEN b.ncid ELSE '' END AS ncid,
    CASE WHEN r.kind = 'copy' THEN a.doi ELSE '' END AS doi,
    CASE WHEN r.kind = 'copy' THEN a.article_title ELSE '' END AS article_title,
    CASE WHEN r.kind = 'copy' THEN a.article_author ELSE '' END AS article_author,
    CASE WHEN r.kind = 'copy' AND NOT r.chapter THEN a.journal_title ELSE '' END AS journal_title,
    CASE WHEN r.kind = 'copy' AND NOT r.chapter THEN a.volume ELSE '' END AS volume,
    CASE WHEN r.kind = 'copy' AND NOT r.chapter THEN a.issue::text ELSE '' END AS issue,
    CASE WHEN r.kind = 'copy' THEN a.pages ELSE '' END AS pages,
    CASE WHEN r.kind = 'copy' THEN a.page_count END AS page_count,
    CASE WHEN r.kind = 'copy' AND pg_temp.u(r.n, 27) < 0.1
         THEN least(a.page_count, 1 + floor(4 * pg_temp.u(r.n, 28))::int) ELSE 0 END AS colour,
    CASE WHEN r.kind = 'copy' AND NOT r.chapter THEN a.frequency ELSE 'none' END AS frequency,
    CASE WHEN r.kind = 'copy' AND NOT r.chapter THEN a.issue_date END AS issue_date,
    CASE WHEN r.chapter THEN 250 + floor(250 * pg_temp.u(r.n, 31))::int END AS work_total_pages
FROM bench_r r JOIN bench_book b ON b.b = r.book JOIN bench_article a ON a.a = r.article;
CREATE UNIQUE INDEX ON bench_item (id);
"""

# Candidate lenders: position k is ordered at t_o1 + (k-1)(d_hop+1); each unfilled answer comes
# d_hop later and the next candidate is ordered a second after it (mark_unfilled's cascade).
CANDIDATES = (
    """
CREATE UNLOGGED TABLE bench_c AS
SELECT r.id AS request_id, r.n, k AS position, l.id AS lender_id, l.name AS lender_name, l.domestic, l.offset_,
    l.loan_period_days, sh.ship,
    """
    + SINGLE_PRICE.format(
        kind="r.kind",
        ship="sh.ship",
        mono="coalesce(pp.mono_price, l.mono_price)",
        pages="i.page_count",
        colour="i.colour",
        colour_price="coalesce(pp.colour_price, l.colour_price)",
    )
    + """ AS price,
    CASE WHEN k <= r.k_last THEN r.t_o1 + (k - 1) * (r.d_hop + 1) END AS t_ord,
    CASE WHEN k <= r.hops THEN r.t_o1 + k * r.d_hop + (k - 1) END AS t_ans,
    CASE WHEN k = 1 AND l.domestic AND pg_temp.u(r.n, 40) < 0.8
         THEN 'NC' || to_char(pg_temp.ts(r.t_o1) AT TIME ZONE 'Asia/Tokyo', 'YYMMDD')
              || lpad(mod(r.n, 100000)::text, 5, '0')
         ELSE '' END AS reference,
    CASE WHEN k <= r.hops THEN pg_temp.pick(%(unfilled_answers)s::text[], pg_temp.u(r.n * 10 + k, 41)) ELSE '' END
      AS answer
FROM bench_r r
JOIN bench_item i ON i.id = r.id
CROSS JOIN LATERAL generate_series(1, r.n_cand) k
JOIN bench_pool p ON p.pool = r.pool
JOIN bench_lender l ON l.id = p.ids[1 + mod(floor(p.len * pg_temp.u(r.n, 42) ^ 3)::int + (k - 1) * 7919, p.len)]
LEFT JOIN fees_papersizeprice pp ON pp.schedule_id = l.schedule_id AND pp.paper_size = r.paper
CROSS JOIN LATERAL (SELECT """
    + SHIPPING
    + """ AS ship) sh
WHERE r.outcome IN ('arrive', 'unfilled');
CREATE UNIQUE INDEX ON bench_c (request_id, position);
"""
)

# The rest of the life, up to the arrival: the last order, its lender, when it arrives (all
# arrivals from one lender on one day at one time: they come as one shipment), unfilled closes.
TIMELINE = """
CREATE UNLOGGED TABLE bench_f AS
SELECT x.*,
    pg_temp.at(x.arr_date, 10 + floor(6 * pg_temp.u(x.lender_id * 100000 + (x.arr_date - date '1970-01-01'), 52)))
      AS t_arr_raw
FROM (
  SELECT r.id, r.n, r.kind, r.outcome, r.nn, r.nc, r.expense, r.support_id, r.max_cost, r.branch_id, r.patron_id,
      r.user_id, r.lab_idx, r.language, r.k_last, r.hops, r.d_hop, r.t_o1, r.sub,
      c.lender_id, c.ship, c.domestic, c.offset_, c.price, c.t_ord AS t_last_order, c.loan_period_days,
      CASE WHEN r.outcome = 'unfilled' THEN r.t_o1 + r.n_cand * r.d_hop + (r.n_cand - 1) END AS t_last_unf,
      CASE WHEN r.outcome = 'arrive' THEN pg_temp.ldate(c.t_ord + 86400 * (CASE
              WHEN r.kind = 'loan' THEN CASE WHEN c.domestic THEN 7 + 14 * pg_temp.u(r.n, 50)
                                             ELSE 14 + 21 * pg_temp.u(r.n, 50) END
              WHEN NOT c.domestic THEN 7 + 18 * pg_temp.u(r.n, 50)
              WHEN c.ship = 'fax' THEN 1 + 0.5 * pg_temp.u(r.n, 50)
              WHEN c.ship = 'express' THEN 2 + 3 * pg_temp.u(r.n, 50)
              ELSE 4 + 8 * pg_temp.u(r.n, 50) + CASE WHEN pg_temp.u(r.n, 51) < 0.1 THEN 7 ELSE 0 END END)) END
        AS arr_date
  FROM bench_r r
  JOIN bench_c c ON c.request_id = r.id AND c.position = r.k_last
) x;
CREATE UNIQUE INDEX ON bench_f (id);
"""

# Arrivals up to {T} priced as shipments: the lender's items of one day, kind and delivery go
# together and share the postage, the fixed FAX fee, the transfer fee and the express surcharge
# (split equally, the remainder to the first requests, as fees.calculator does).
CHARGES = """
CREATE UNLOGGED TABLE bench_ch AS
WITH a AS (
  SELECT f.id, f.n, f.kind, f.lender_id, f.ship, f.t_arr_raw AS t_arr, f.expense, f.support_id, f.max_cost,
      f.branch_id,
      count(*) OVER w AS k_n, (row_number() OVER (w ORDER BY f.id) - 1)::int AS k_i,
      dense_rank() OVER (ORDER BY pg_temp.day(f.t_arr_raw), f.lender_id, f.kind, f.ship) AS ship_no
  FROM bench_f f WHERE f.outcome = 'arrive' AND f.t_arr_raw <= {T}
  WINDOW w AS (PARTITION BY pg_temp.day(f.t_arr_raw), f.lender_id, f.kind, f.ship)
), s AS (
  SELECT a.*, l.domestic, l.offset_, l.kind AS lender_kind, l.loan_fee_mode, l.loan_fee, i.page_count, i.colour,
      coalesce(pp.mono_price, l.mono_price) AS mono, coalesce(pp.colour_price, l.colour_price) AS colour_price,
      l.fax_fee_mode, l.fax_fee_per_page, l.handling_fee_per_item AS handling, l.overseas_flat_fee_per_item AS oflat,
      l.overseas_fax_surcharge AS ofax_fee, l.loan_express_surcharge,
      l.postage_per_shipment / a.k_n
        + CASE WHEN a.k_i < mod(l.postage_per_shipment, a.k_n) THEN 1 ELSE 0 END AS sh_postage,
      l.fax_fee_fixed / a.k_n + CASE WHEN a.k_i < mod(l.fax_fee_fixed, a.k_n) THEN 1 ELSE 0 END AS sh_fax_fixed,
      l.bank_transfer_fee / a.k_n + CASE WHEN a.k_i < mod(l.bank_transfer_fee, a.k_n) THEN 1 ELSE 0 END AS sh_bank,
      l.express_surcharge / a.k_n + CASE WHEN a.k_i < mod(l.express_surcharge, a.k_n) THEN 1 ELSE 0 END AS sh_express
  FROM a JOIN bench_lender l ON l.id = a.lender_id JOIN bench_item i ON i.id = a.id
  JOIN bench_r r ON r.id = a.id
  LEFT JOIN fees_papersizeprice pp ON pp.schedule_id = l.schedule_id AND pp.paper_size = r.paper
), p AS (
  SELECT s.*,
      CASE WHEN kind = 'copy' AND domestic THEN mono ELSE 0 END AS u_mono,
      CASE WHEN kind = 'copy' AND domestic THEN page_count - colour ELSE 0 END AS q_mono,
      CASE WHEN kind = 'copy' AND domestic THEN colour_price ELSE 0 END AS u_colour,
      CASE WHEN kind = 'copy' AND domestic THEN colour ELSE 0 END AS q_colour,
      CASE WHEN kind = 'copy' AND NOT domestic THEN oflat ELSE 0 END AS a_oflat,
      CASE WHEN kind = 'copy' AND domestic AND ship IN ('mail', 'express') THEN sh_postage ELSE 0 END AS a_postage,
      CASE WHEN kind = 'copy' AND domestic AND ship = 'fax' AND fax_fee_mode = 'per_page' THEN fax_fee_per_page
           ELSE 0 END AS u_fax_pp,
      CASE WHEN kind = 'copy' AND domestic AND ship = 'fax' AND fax_fee_mode = 'fixed' THEN sh_fax_fixed ELSE 0 END
        AS a_fax_fixed,
      CASE WHEN kind = 'loan' AND loan_fee_mode IN ('round_trip', 'return_only') THEN loan_fee ELSE 0 END AS a_loan,
      CASE WHEN kind = 'copy' THEN handling ELSE 0 END AS a_handling,
      CASE WHEN kind = 'copy' AND NOT domestic AND ship = 'fax' THEN ofax_fee ELSE 0 END AS a_ofax,
      CASE WHEN kind = 'loan' AND loan_fee_mode IN ('round_trip', 'return_only') AND ship = 'express'
           THEN loan_express_surcharge ELSE 0 END AS a_loan_express,
      CASE WHEN kind = 'copy' THEN sh_bank ELSE 0 END AS a_bank,
      CASE WHEN kind = 'copy' AND ship = 'express' THEN sh_express ELSE 0 END AS a_express,
      kind = 'loan' AND loan_fee_mode = 'quote' AS quoted
  FROM s
), t AS (
  SELECT p.*,
      u_mono * q_mono + u_colour * q_colour + a_oflat AS copy_fee,
      a_postage + u_fax_pp * coalesce(page_count, 0) + a_fax_fixed + a_loan AS postage,
      a_handling + a_ofax + a_loan_express + a_bank + a_express AS other_fees
  FROM p
), v AS (
  SELECT t.*, copy_fee + postage + other_fees AS computed,
      CASE WHEN quoted THEN CASE WHEN lender_kind = 'overseas' THEN 2500 + 500 * floor(6 * pg_temp.u(n, 60))::int
                                 ELSE 1000 + 100 * floor(10 * pg_temp.u(n, 60))::int END
           ELSE copy_fee + postage + other_fees END AS total
  FROM t
), w AS (
  SELECT v.*, CASE WHEN support_id IS NOT NULL THEN 'support' ELSE expense END AS payer,
      least(CASE WHEN kind = 'loan' AND loan_fee_mode = 'round_trip' THEN loan_fee / 2
                 WHEN kind = 'loan' AND loan_fee_mode = 'return_only' THEN loan_fee ELSE 0 END, total) AS rp
  FROM v
), x AS (
  SELECT w.*, CASE WHEN payer = 'private' THEN total - rp ELSE 0 END AS cash FROM w
)
SELECT x.*, {ch0} + row_number() OVER (ORDER BY t_arr, id) AS charge_id, {sh0} + ship_no AS shipment_id,
    CASE WHEN max_cost IS NOT NULL AND total > max_cost THEN 'awaiting' WHEN cash > 0 THEN 'due' ELSE 'settled' END
      AS state0
FROM x;
CREATE UNIQUE INDEX ON bench_ch (id);
"""

# After the arrival: acceptance, notice, pick-up, payment, the loan with its due dates, an
# extension, the return and sending back; or never collected.
AFTER_ARRIVAL = """
CREATE UNLOGGED TABLE bench_t AS
WITH a AS (
  SELECT f.*, ch.charge_id, ch.total, ch.cash, ch.rp, ch.state0, ch.payer,
      CASE WHEN ch.state0 = 'awaiting' AND NOT f.nc THEN f.t_arr_raw + 3600 * (3 + 45 * pg_temp.u(f.n, 61)) END
        AS t_accept,
      pg_temp.ldate(f.t_arr_raw) + f.loan_period_days + 7 AS lender_due0
  FROM bench_f f LEFT JOIN bench_ch ch ON ch.id = f.id
  WHERE f.outcome = 'arrive'
), b AS (
  SELECT a.*,
      coalesce(a.t_accept, a.t_arr_raw + 0.3) AS t_notify,
      CASE WHEN NOT a.nc AND (a.state0 IS DISTINCT FROM 'awaiting' OR a.t_accept IS NOT NULL)
           THEN coalesce(a.t_accept, a.t_arr_raw) + 86400 * (0.1 + 12 * pg_temp.u(a.n, 62) ^ 2) END AS t_hand,
      CASE WHEN a.nc THEN a.t_arr_raw + 86400 * (21 + 10 * pg_temp.u(a.n, 63)) END AS t_nc,
      a.lender_due0 - 3 AS due0,
      a.kind = 'loan' AND NOT a.nc AND pg_temp.u(a.n, 64) < 0.06 AS ext,
      pg_temp.u(a.n, 65) < 0.8 AS ext_forwarded,
      pg_temp.u(a.n, 66) < 0.8 AS ext_granted
  FROM a
), c AS (
  SELECT b.*,
      CASE WHEN b.ext THEN b.t_hand + 0.6 * (pg_temp.at(b.due0, 17) - b.t_hand) END AS t_ext_req,
      CASE WHEN b.ext AND b.ext_granted THEN b.due0 + 14 ELSE b.due0 END AS due_eff
  FROM b
), d AS (
  SELECT c.*,
      CASE WHEN c.ext AND c.ext_forwarded THEN c.t_ext_req + 3600 * (2 + 20 * pg_temp.u(c.n, 67)) END AS t_ext_fwd,
      CASE WHEN c.ext THEN c.t_ext_req + 86400 * (1 + 3 * pg_temp.u(c.n, 68)) END AS t_ext_dec,
      CASE WHEN c.kind = 'loan' AND c.t_hand IS NOT NULL THEN
        CASE WHEN pg_temp.u(c.n, 69) < 0.08 THEN pg_temp.at(c.due_eff, 12) + 86400 * (1 + 25 * pg_temp.u(c.n, 70))
             ELSE c.t_hand + (pg_temp.at(c.due_eff, 17) - c.t_hand) * (0.45 + 0.54 * pg_temp.u(c.n, 70)) END END
        AS t_ret0
  FROM c
)
SELECT d.*,
    CASE WHEN d.ext THEN greatest(d.t_ret0, d.t_ext_dec + 86400 * (0.5 + 2 * pg_temp.u(d.n, 71))) ELSE d.t_ret0 END
      AS t_ret,
    CASE WHEN d.cash > 0 AND d.t_hand IS NOT NULL THEN d.t_hand - 60 END AS t_pay,
    d.kind = 'copy' AND d.expense IN ('public', 'grant') AND d.offset_ AND d.lab_idx IS NOT NULL AS campus,
    d.kind = 'copy' AND d.expense IN ('public', 'grant') AND d.offset_ AND d.lab_idx IS NOT NULL
      AND pg_temp.u(d.n, 72) < 0.8 AS campus_used
FROM d;
ALTER TABLE bench_t ADD COLUMN t_back float8;
UPDATE bench_t SET t_back = t_ret + 3600 * (2 + 70 * pg_temp.u(n, 73)) WHERE t_ret IS NOT NULL;
CREATE UNIQUE INDEX ON bench_t (id);
"""

# Everything about a request as it stands at {T}.
FINAL = """
CREATE UNLOGGED TABLE bench_final AS
WITH a AS (
  SELECT r.id, r.n, r.kind, r.outcome, r.nn, r.reviewed, r.t_rv, r.t_cancel, r.t_o1, r.d_hop, r.k_last, r.sub,
      r.reject_reason, r.support_id, r.branch_id, r.expense,
      f.t_last_unf,
      CASE WHEN r.outcome = 'unfilled' THEN CASE WHEN r.nn THEN f.t_last_unf + 1
           ELSE f.t_last_unf + 86400 * (0.3 + 3 * pg_temp.u(r.n, 80)) END END AS t_close_unf,
      t.t_arr_raw AS t_arr, t.t_accept, t.t_notify, t.t_hand, t.t_nc, t.t_ret, t.t_back, t.t_pay, t.due0,
      t.lender_due0, t.due_eff, t.ext, t.ext_granted, t.t_ext_req, t.t_ext_fwd, t.t_ext_dec, t.charge_id
  FROM bench_r r LEFT JOIN bench_f f ON f.id = r.id LEFT JOIN bench_t t ON t.id = r.id
), b AS (
  SELECT a.*,
      CASE
        WHEN outcome = 'cancel' THEN CASE WHEN t_cancel <= {T} THEN 'cancelled' ELSE 'submitted' END
        WHEN outcome = 'reject' THEN CASE WHEN t_rv <= {T} THEN 'rejected' ELSE 'submitted' END
        WHEN outcome = 'unfilled' THEN CASE WHEN t_close_unf <= {T} THEN 'closed' WHEN t_last_unf <= {T} THEN 'unfilled'
                                            WHEN t_o1 <= {T} THEN 'ordered' ELSE 'submitted' END
        WHEN kind = 'copy' AND t_hand <= {T} THEN 'handed_over'
        WHEN t_nc <= {T} THEN 'closed'
        WHEN kind = 'loan' AND t_back <= {T} THEN 'closed'
        WHEN kind = 'loan' AND t_ret <= {T} THEN 'returned'
        WHEN kind = 'loan' AND t_hand <= {T} THEN 'on_loan'
        WHEN t_arr <= {T} THEN 'arrived'
        WHEN t_o1 <= {T} THEN 'ordered'
        ELSE 'submitted' END AS status,
      CASE WHEN outcome IN ('arrive', 'unfilled') AND t_o1 <= {T}
           THEN least(k_last, 1 + floor(({T} - t_o1) / (d_hop + 1))::int) ELSE 0 END AS k_now,
      CASE outcome WHEN 'cancel' THEN t_cancel WHEN 'reject' THEN t_rv WHEN 'unfilled' THEN t_close_unf
           ELSE CASE WHEN t_nc IS NOT NULL THEN t_nc WHEN kind = 'copy' THEN t_hand ELSE t_back END END AS t_closed
  FROM a
)
SELECT b.*,
    CASE WHEN b.t_closed <= {T} THEN b.t_closed END AS closed_at,
    c.lender_id, c.ship, c.price AS estimate_price, c.reference, c.t_ord AS t_cur_order,
    CASE WHEN b.t_ext_dec <= {T} AND b.ext_granted THEN b.due_eff ELSE b.due0 END AS due_now,
    CASE WHEN b.t_ext_dec <= {T} AND b.ext_granted THEN b.lender_due0 + 14 ELSE b.lender_due0 END AS lender_due_now
FROM b LEFT JOIN bench_c c ON c.request_id = b.id AND c.position = b.k_now;
CREATE UNIQUE INDEX ON bench_final (id);
"""

# What an order commits on a budget code: the estimate, or the staff's estimate (3,000 yen) when the
# lender quotes loans case by case (ill.services.ordering asks for one for public expense).
ESTIMATE = "CASE WHEN {expense} IN ('public', 'grant') THEN coalesce({price}, 3000) ELSE {price} END"

REQUESTS = (
    """
INSERT INTO ill_request (id, number, patron_id, created_by_id, kind, status, material_type, title, author, publisher,
    pub_year, edition, isbn, issn, ncid, doi, article_title, article_author, journal_title, volume, issue, pages, note,
    page_count, colour_pages, paper_size, delivery_method, purpose, periodical_frequency, issue_date, work_total_pages,
    copyright_accepted, expense_type, budget_code_id, cannot_use_public_expense, support_budget_id, comments,
    pickup_branch_id, not_needed_after, max_cost, scope, accept_other_edition, cancel_if_in_library_only,
    duplicate_override_reason, copyright_override_reason, lender_id, lender_reference, shipping_method, estimate,
    lender_due_date, due_date, use_restriction, restriction_note, reject_reason, close_reason, status_note,
    submitted_at, reviewed_at, ordered_at, arrived_at, notified_at, handed_over_at, returned_at, closed_at, updated_at)
SELECT r.id,
    'ILL-' || y.year || '-' || lpad((row_number() OVER (PARTITION BY y.year ORDER BY r.id))::text, 6, '0'),
    r.patron_id, CASE WHEN r.by_staff THEN {staff_central} ELSE r.user_id END, r.kind, f.status, i.material, i.title,
    i.author, i.publisher, i.pub_year, i.edition, i.isbn, i.issn, i.ncid, i.doi, i.article_title, i.article_author,
    i.journal_title, i.volume, i.issue, i.pages,
    pg_temp.pick(%(notes)s::text[], pg_temp.u(r.n, 90)),
    i.page_count, i.colour, r.paper, CASE WHEN r.kind = 'copy' THEN r.delivery ELSE 'mail' END,
    CASE WHEN pg_temp.u(r.n, 91) < 0.7 THEN 'research' ELSE 'study' END, i.frequency, i.issue_date, i.work_total_pages,
    r.kind = 'copy', r.expense, r.code_id, r.cannot_use, r.support_id, '', r.branch_id,
    r.nna,
    r.max_cost, r.scope, r.kind = 'loan' AND pg_temp.u(r.n, 94) < 0.2, r.kind = 'loan' AND pg_temp.u(r.n, 95) < 0.1,
    '', '', f.lender_id, coalesce(CASE WHEN f.k_now = 1 THEN f.reference END, ''), coalesce(f.ship, ''),
    CASE WHEN f.k_now > 0 THEN """
    + ESTIMATE.format(expense="r.expense", price="f.estimate_price")
    + """ END,
    CASE WHEN f.t_arr <= {T} AND r.kind = 'loan' THEN f.lender_due_now END,
    CASE WHEN f.t_arr <= {T} AND r.kind = 'loan' THEN f.due_now END,
    'none', '', CASE WHEN f.status = 'rejected' THEN r.reject_reason ELSE '' END,
    CASE WHEN f.closed_at IS NULL OR r.outcome IN ('cancel', 'reject') THEN ''
         WHEN r.outcome = 'unfilled' THEN CASE WHEN r.nn THEN 'not_needed' ELSE 'unfilled' END
         WHEN f.t_nc IS NOT NULL THEN 'not_collected' WHEN r.kind = 'copy' THEN 'completed' ELSE 'sent_back' END,
    CASE WHEN r.nn AND f.closed_at IS NOT NULL THEN format(%(nn_note)s, r.nna) ELSE '' END,
    pg_temp.ts(r.sub),
    CASE WHEN r.reviewed AND r.t_rv <= {T} THEN pg_temp.ts(r.t_rv) END,
    CASE WHEN f.t_cur_order <= {T} THEN pg_temp.ts(f.t_cur_order) END,
    CASE WHEN f.t_arr <= {T} THEN pg_temp.ts(f.t_arr) END,
    CASE WHEN f.t_notify <= {T} THEN pg_temp.ts(f.t_notify) END,
    CASE WHEN f.t_hand <= {T} THEN pg_temp.ts(f.t_hand) END,
    CASE WHEN f.t_ret <= {T} THEN pg_temp.ts(f.t_ret) END,
    pg_temp.ts(f.closed_at),
    pg_temp.ts(greatest(r.sub, CASE WHEN r.reviewed AND r.t_rv <= {T} THEN r.t_rv END, f.t_cur_order,
        CASE WHEN f.t_last_unf <= {T} THEN f.t_last_unf END,
        CASE WHEN f.t_arr <= {T} THEN f.t_arr END, CASE WHEN f.t_notify <= {T} THEN f.t_notify END,
        CASE WHEN f.t_hand <= {T} THEN f.t_hand END,
        CASE WHEN f.t_ext_dec <= {T} AND f.ext_granted THEN f.t_ext_dec END,
        CASE WHEN f.t_ret <= {T} THEN f.t_ret END, f.closed_at))
FROM bench_r r JOIN bench_final f ON f.id = r.id JOIN bench_item i ON i.id = r.id
CROSS JOIN LATERAL (SELECT extract(year FROM pg_temp.ts(r.sub) AT TIME ZONE 'Asia/Tokyo')::int AS year) y
ORDER BY r.id
"""
)

CANDIDATE_ROWS = """
INSERT INTO ill_lendercandidate (request_id, position, lender_id, state, lender_reference, ordered_at, answered_at,
    answer_note)
SELECT c.request_id, c.position, c.lender_id,
    CASE WHEN c.t_ans <= {T} THEN 'unfilled'
         WHEN c.t_ord <= {T} THEN CASE WHEN c.position = f.k_last AND f.t_arr <= {T} AND f.outcome = 'arrive'
                                       THEN 'filled' ELSE 'ordered' END
         ELSE 'waiting' END,
    CASE WHEN c.t_ord <= {T} THEN c.reference ELSE '' END,
    CASE WHEN c.t_ord <= {T} THEN pg_temp.ts(c.t_ord) END,
    CASE WHEN c.t_ans <= {T} THEN pg_temp.ts(c.t_ans)
         WHEN c.position = f.k_last AND f.t_arr <= {T} AND f.outcome = 'arrive' THEN pg_temp.ts(f.t_arr) END,
    CASE WHEN c.t_ans <= {T} THEN c.answer ELSE '' END
FROM bench_c c JOIN bench_final f ON f.id = c.request_id
WHERE f.t_o1 <= {T}
ORDER BY c.request_id, c.position
"""

SHIPMENTS = """
INSERT INTO fees_shipment (id, lender_id, delivery_method, lender_invoice, total, received_at, recorded_by_id)
SELECT ch.shipment_id, min(ch.lender_id), min(ch.ship),
    CASE WHEN bool_and(l.offset_) THEN '' ELSE 'INV-' || ch.shipment_id END, sum(ch.total), pg_temp.ts(min(ch.t_arr)),
    CASE WHEN min(ch.branch_id) = {medical} THEN {staff_medical} ELSE {staff_central} END
FROM bench_ch ch JOIN bench_lender l ON l.id = ch.lender_id
GROUP BY ch.shipment_id ORDER BY ch.shipment_id
"""

CHARGE_ROWS = """
INSERT INTO fees_charge (id, request_id, shipment_id, payment_class, budget_code_id, copy_fee, postage, other_fees, tax,
    return_postage, adjustment, computed_total, total, adjustment_reason, state, accepted_at, created_at, created_by_id)
SELECT ch.charge_id, ch.id, ch.shipment_id, ch.payer, CASE WHEN ch.payer IN ('public', 'grant') THEN r.code_id END,
    CASE WHEN ch.quoted THEN 0 ELSE ch.copy_fee END, CASE WHEN ch.quoted THEN 0 ELSE ch.postage END,
    CASE WHEN ch.quoted THEN 0 ELSE ch.other_fees END, 0, ch.rp,
    CASE WHEN ch.quoted THEN ch.total ELSE 0 END, CASE WHEN ch.quoted THEN 0 ELSE ch.computed END, ch.total,
    CASE WHEN ch.quoted THEN %(no_schedule)s ELSE '' END,
    CASE WHEN ch.state0 = 'awaiting' AND coalesce(t.t_accept > {T}, true) THEN 'awaiting'
         WHEN ch.cash > 0 AND t.t_pay <= {T} THEN 'paid'
         WHEN ch.cash > 0 THEN 'due' ELSE 'settled' END,
    CASE WHEN t.t_accept <= {T} THEN pg_temp.ts(t.t_accept) END,
    pg_temp.ts(ch.t_arr), CASE WHEN ch.branch_id = {medical} THEN {staff_medical} ELSE {staff_central} END
FROM bench_ch ch JOIN bench_r r ON r.id = ch.id JOIN bench_t t ON t.id = ch.id
ORDER BY ch.charge_id
"""

# fees.calculator.CODES in display order; a line per code with a non-zero amount.
CHARGE_LINES = """
INSERT INTO fees_chargeline (charge_id, position, code, section, unit_price, quantity, amount)
SELECT charge_id, row_number() OVER (PARTITION BY charge_id ORDER BY ord, unit), code, section, unit, qty, unit * qty
FROM (
  SELECT ch.charge_id, x.ord, x.code, x.section, x.unit, x.qty
  FROM bench_ch ch
  CROSS JOIN LATERAL (VALUES
      (1, 'copy_mono', 'A', ch.u_mono, ch.q_mono),
      (2, 'copy_colour', 'A', ch.u_colour, ch.q_colour),
      (3, 'overseas_flat', 'A', ch.a_oflat, 1),
      (4, 'postage', 'B', ch.a_postage, 1),
      (5, 'fax_per_page', 'B', ch.u_fax_pp, coalesce(ch.page_count, 0)),
      (6, 'fax_fixed', 'B', ch.a_fax_fixed, 1),
      (7, 'loan_round_trip', 'B', CASE WHEN ch.loan_fee_mode = 'round_trip' THEN ch.a_loan ELSE 0 END, 1),
      (8, 'loan_return_only', 'B', CASE WHEN ch.loan_fee_mode = 'return_only' THEN ch.a_loan ELSE 0 END, 1),
      (9, 'handling', 'C', ch.a_handling, 1),
      (10, 'overseas_fax', 'C', ch.a_ofax, 1),
      (11, 'loan_express', 'C', ch.a_loan_express, 1),
      (12, 'bank_transfer', 'C', ch.a_bank, 1),
      (13, 'express', 'C', ch.a_express, 1)
  ) AS x(ord, code, section, unit, qty)
  WHERE NOT ch.quoted AND x.unit > 0 AND x.qty > 0
) lines
ORDER BY charge_id, ord
"""

# fees.budgets: a commitment at each order, its release at an unfilled answer and at arrival, the
# charge at arrival.
LEDGER = (
    """
INSERT INTO fees_budgetledgerentry (budget_code_id, request_id, entry_type, amount, note, created_by_id, created_at)
SELECT code_id, request_id, entry_type, amount, note, staff, pg_temp.ts(at) FROM (
  SELECT r.code_id, c.request_id, 'commitment' AS entry_type, e.est AS amount, c.lender_name AS note, c.t_ord AS at,
      1 AS seq
  FROM bench_c c JOIN bench_r r ON r.id = c.request_id
  CROSS JOIN LATERAL (SELECT """
    + ESTIMATE.format(expense="r.expense", price="c.price")
    + """ AS est) e
  WHERE r.code_id IS NOT NULL AND c.t_ord <= {T}
  UNION ALL
  SELECT r.code_id, c.request_id, 'release', -e.est, '', c.t_ans, 2
  FROM bench_c c JOIN bench_r r ON r.id = c.request_id
  CROSS JOIN LATERAL (SELECT """
    + ESTIMATE.format(expense="r.expense", price="c.price")
    + """ AS est) e
  WHERE r.code_id IS NOT NULL AND c.t_ans <= {T} AND e.est <> 0
  UNION ALL
  SELECT r.code_id, r.id, 'release', -e.est, 'arrival', ch.t_arr, 3
  FROM bench_ch ch JOIN bench_r r ON r.id = ch.id JOIN bench_c c ON c.request_id = r.id AND c.position = r.k_last
  CROSS JOIN LATERAL (SELECT """
    + ESTIMATE.format(expense="r.expense", price="c.price")
    + """ AS est) e
  WHERE r.code_id IS NOT NULL AND ch.payer IN ('public', 'grant') AND e.est <> 0
  UNION ALL
  SELECT r.code_id, r.id, 'charge', ch.total, '', ch.t_arr, 4
  FROM bench_ch ch JOIN bench_r r ON r.id = ch.id
  WHERE r.code_id IS NOT NULL AND ch.payer IN ('public', 'grant')
) e
CROSS JOIN LATERAL (SELECT {staff_central} AS staff) s
ORDER BY at, request_id, seq
"""
)

# fees.support: linked at submission, reserved while ordered, back to linked when unfilled,
# charged at arrival, released when the request fails.
SUPPORT_USES = """
INSERT INTO fees_supportuse (budget_id, request_id, patron_id, state, amount, note, created_at, updated_at)
SELECT r.support_id, r.id, r.patron_id, s.state,
    CASE s.state WHEN 'charged' THEN ch.total WHEN 'reserved' THEN coalesce(f.estimate_price, 0) ELSE 0 END,
    CASE WHEN s.state = 'released' AND r.nn THEN format(%(nn_note)s, r.nna) ELSE '' END,
    pg_temp.ts(r.sub),
    pg_temp.ts(CASE s.state WHEN 'released' THEN f.closed_at WHEN 'charged' THEN f.t_arr
                            WHEN 'reserved' THEN f.t_cur_order
                            ELSE greatest(r.sub, CASE WHEN f.t_last_unf <= {T} THEN f.t_last_unf END) END)
FROM bench_r r JOIN bench_final f ON f.id = r.id LEFT JOIN bench_ch ch ON ch.id = r.id
CROSS JOIN LATERAL (SELECT CASE
    WHEN f.status IN ('cancelled', 'rejected') OR (r.outcome = 'unfilled' AND f.status = 'closed') THEN 'released'
    WHEN ch.id IS NOT NULL THEN 'charged'
    WHEN f.status = 'ordered' THEN 'reserved'
    ELSE 'linked' END AS state) s
WHERE r.support_id IS NOT NULL
ORDER BY r.id
"""

PAYMENTS = """
INSERT INTO fees_payment (request_id, charge_id, method, amount, receipt_number, received_by_id, received_at, note)
SELECT request_id, charge_id, method, amount, receipt, staff, pg_temp.ts(at), '' FROM (
  SELECT t.id AS request_id, t.charge_id, 'cash' AS method, t.cash AS amount,
      'R' || to_char(pg_temp.ts(t.t_pay) AT TIME ZONE 'Asia/Tokyo', 'YYMMDD') || '-' || lpad(t.id::text, 8, '0')
        AS receipt, t.t_pay AS at, t.branch_id
  FROM bench_t t WHERE t.t_pay <= {T}
  UNION ALL
  SELECT t.id, t.charge_id, CASE WHEN t.payer = 'private' THEN 'stamps' ELSE 'postal_barcode' END,
      CASE WHEN t.payer = 'private' THEN t.rp ELSE 0 END, '', t.t_ret - 1, t.branch_id
  FROM bench_t t
  WHERE t.t_ret - 1 <= {T} AND t.kind = 'loan'
    AND ((t.payer = 'private' AND t.rp > 0) OR t.payer IN ('public', 'grant'))
) p
CROSS JOIN LATERAL (SELECT CASE WHEN p.branch_id = {medical} THEN {staff_medical} ELSE {staff_central} END AS staff) s
ORDER BY at
"""

EXTENSIONS = """
CREATE UNLOGGED TABLE bench_ext AS
SELECT {ext0} + row_number() OVER (ORDER BY t.t_ext_req, t.id) AS ext_id, t.id AS request_id, t.n, t.user_id,
    t.branch_id, t.t_ext_req, t.t_ext_fwd, t.t_ext_dec, t.ext_granted, t.lender_due0, t.due0,
    pg_temp.pick(%(reasons)s::text[], pg_temp.u(t.n, 100)) AS reason
FROM bench_t t WHERE t.ext AND t.t_ext_req <= {T};

INSERT INTO ill_extensionrequest (id, request_id, state, requested_by_id, requested_at, reason, new_lender_due_date,
    new_due_date, decided_by_id, decided_at, answer_note)
SELECT e.ext_id, e.request_id,
    CASE WHEN e.t_ext_dec <= {T} THEN CASE WHEN e.ext_granted THEN 'granted' ELSE 'refused' END
         WHEN e.t_ext_fwd <= {T} THEN 'forwarded' ELSE 'requested' END,
    e.user_id, pg_temp.ts(e.t_ext_req), e.reason,
    CASE WHEN e.t_ext_dec <= {T} AND e.ext_granted THEN e.lender_due0 + 14 END,
    CASE WHEN e.t_ext_dec <= {T} AND e.ext_granted THEN e.due0 + 14 END,
    CASE WHEN e.t_ext_dec <= {T}
         THEN CASE WHEN e.branch_id = {medical} THEN {staff_medical} ELSE {staff_central} END END,
    CASE WHEN e.t_ext_dec <= {T} THEN pg_temp.ts(e.t_ext_dec) END, ''
FROM bench_ext e ORDER BY e.ext_id;
"""

# The history (ill.services.transitions.apply and add_note), in time order; ids follow time.
EVENTS = """
CREATE UNLOGGED TABLE bench_staff AS
SELECT * FROM (VALUES ({central}, {staff_central}), ({medical}, {staff_medical})) AS v(branch, staff);

CREATE UNLOGGED TABLE bench_ev AS
SELECT {ev0} + row_number() OVER (ORDER BY at, request_id, seq) AS event_id, e.*
FROM (
  SELECT r.id AS request_id, r.sub AS at, 1 AS seq, 'submit' AS action, '' AS from_s, 'submitted' AS to_s,
      CASE WHEN r.by_staff THEN {staff_central} ELSE r.user_id END AS actor, '' AS note, '{{}}'::jsonb AS data,
      true AS visible, 0 AS pos
  FROM bench_r r
  UNION ALL
  SELECT r.id, r.t_rv, 2, 'reviewed', 'submitted', 'submitted', s.staff, '', '{{}}', false, 0
  FROM bench_r r JOIN bench_staff s ON s.branch = r.branch_id WHERE r.reviewed AND r.t_rv <= {T}
  UNION ALL
  SELECT r.id, r.t_cancel, 3, 'cancel', 'submitted', 'cancelled', r.user_id, '', '{{}}', true, 0
  FROM bench_r r WHERE r.outcome = 'cancel' AND r.t_cancel <= {T}
  UNION ALL
  SELECT r.id, r.t_rv, 3, 'reject', 'submitted', 'rejected', s.staff, '', jsonb_build_object('reason', r.reject_reason),
      true, 0
  FROM bench_r r JOIN bench_staff s ON s.branch = r.branch_id WHERE r.outcome = 'reject' AND r.t_rv <= {T}
  UNION ALL
  SELECT c.request_id, c.t_ord, 10 + 2 * c.position, 'order',
      CASE WHEN c.position = 1 THEN 'submitted' ELSE 'unfilled' END, 'ordered', s.staff,
      concat_ws(' ', CASE WHEN c.position > 1 THEN format(%(auto_note)s, prev.lender_name) END,
          CASE WHEN r.delivery = 'fax' AND c.ship <> 'fax'
               THEN format(CASE c.ship WHEN 'express' THEN %(fax_express)s ELSE %(fax_mail)s END, c.lender_name) END,
          CASE WHEN r.max_cost IS NOT NULL AND e.est > r.max_cost THEN format(%(accepted)s, pg_temp.yen(e.est) || '円')
          END),
      jsonb_build_object('lender', c.lender_id, 'lender_name', c.lender_name, 'candidate', c.position,
          'shipping_method', c.ship, 'reference', c.reference, 'automatic', c.position > 1, 'estimate', e.est,
          'support_removed', false),
      true, c.position
  FROM bench_c c JOIN bench_r r ON r.id = c.request_id JOIN bench_staff s ON s.branch = r.branch_id
  LEFT JOIN bench_c prev ON prev.request_id = c.request_id AND prev.position = c.position - 1
  CROSS JOIN LATERAL (SELECT """
EVENTS_ESTIMATE = ESTIMATE.format(expense="r.expense", price="c.price")
EVENTS += (
    EVENTS_ESTIMATE
    + """ AS est) e
  WHERE c.t_ord <= {T}
  UNION ALL
  SELECT c.request_id, c.t_ans, 11 + 2 * c.position, 'mark_unfilled', 'ordered', 'unfilled', s.staff, c.answer,
      jsonb_build_object('lender', c.lender_id, 'lender_name', c.lender_name, 'candidate', c.position), true, c.position
  FROM bench_c c JOIN bench_r r ON r.id = c.request_id JOIN bench_staff s ON s.branch = r.branch_id
  WHERE c.t_ans <= {T}
  UNION ALL
  SELECT f.id, f.t_close_unf, 30, CASE WHEN f.nn THEN 'close_not_needed' ELSE 'close_unfilled' END,
      'unfilled', 'closed', s.staff, CASE WHEN f.nn THEN format(%(nn_note)s, r.nna) ELSE '' END, '{{}}', true, 0
  FROM bench_final f JOIN bench_r r ON r.id = f.id JOIN bench_staff s ON s.branch = f.branch_id
  WHERE f.outcome = 'unfilled' AND f.t_close_unf <= {T}
  UNION ALL
  SELECT t.id, t.t_arr_raw, 40, 'record_arrival', 'ordered', 'arrived', s.staff,
      format(%(charge_note)s, pg_temp.yen(t.total) || '円'),
      jsonb_build_object('lender_due_date', CASE WHEN t.kind = 'loan' THEN t.lender_due0::text END,
          'use_restriction', 'none'), true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id WHERE t.t_arr_raw <= {T}
  UNION ALL
  SELECT t.id, t.t_accept, 41, 'charge_accepted', 'arrived', 'arrived', t.user_id,
      format(%(accepted_charge)s, pg_temp.yen(t.total) || '円'), jsonb_build_object('amount', t.total), true, 0
  FROM bench_t t WHERE t.t_accept <= {T}
  UNION ALL
  SELECT t.id, t.t_pay, 42, 'payment', 'arrived', 'arrived', s.staff,
      format(%(paid_note)s, pg_temp.yen(t.cash) || '円',
          'R' || to_char(pg_temp.ts(t.t_pay) AT TIME ZONE 'Asia/Tokyo', 'YYMMDD') || '-' || lpad(t.id::text, 8, '0')),
      jsonb_build_object('amount', t.cash, 'receipt',
          'R' || to_char(pg_temp.ts(t.t_pay) AT TIME ZONE 'Asia/Tokyo', 'YYMMDD') || '-' || lpad(t.id::text, 8, '0')),
      true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id WHERE t.t_pay <= {T}
  UNION ALL
  SELECT t.id, t.t_hand, 43, 'hand_over', 'arrived', CASE t.kind WHEN 'loan' THEN 'on_loan' ELSE 'handed_over' END,
      s.staff, '', jsonb_build_object('campus_mail', t.campus_used), true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id WHERE t.t_hand <= {T}
  UNION ALL
  SELECT e.request_id, e.t_ext_req, 50, 'extension_requested', 'on_loan', 'on_loan', e.user_id, e.reason,
      jsonb_build_object('extension', e.ext_id), true, 0
  FROM bench_ext e
  UNION ALL
  SELECT e.request_id, e.t_ext_fwd, 51, 'extension_forwarded', 'on_loan', 'on_loan', s.staff, '', '{{}}', true, 0
  FROM bench_ext e JOIN bench_staff s ON s.branch = e.branch_id WHERE e.t_ext_fwd <= {T}
  UNION ALL
  SELECT e.request_id, e.t_ext_dec, 52, CASE WHEN e.ext_granted THEN 'extension_granted' ELSE 'extension_refused' END,
      'on_loan', 'on_loan', s.staff, '',
      CASE WHEN e.ext_granted THEN jsonb_build_object('due_date', (e.due0 + 14)::text) ELSE '{{}}' END, true, 0
  FROM bench_ext e JOIN bench_staff s ON s.branch = e.branch_id WHERE e.t_ext_dec <= {T}
  UNION ALL
  SELECT t.id, t.t_ret - 1, 60, 'return_postage', 'on_loan', 'on_loan', s.staff, '',
      jsonb_build_object('method', CASE WHEN t.payer = 'private' THEN 'stamps' ELSE 'postal_barcode' END,
          'amount', CASE WHEN t.payer = 'private' THEN t.rp ELSE 0 END), true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id
  WHERE t.t_ret - 1 <= {T} AND t.kind = 'loan'
    AND ((t.payer = 'private' AND t.rp > 0) OR t.payer IN ('public', 'grant'))
  UNION ALL
  SELECT t.id, t.t_ret, 61, 'return_by_patron', 'on_loan', 'returned', s.staff, '',
      jsonb_build_object('overdue_days', greatest(0, pg_temp.ldate(t.t_ret) - t.due_eff)), true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id WHERE t.t_ret <= {T}
  UNION ALL
  SELECT t.id, t.t_back, 62, 'send_back', 'returned', 'closed', s.staff, '', '{{}}', true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id WHERE t.t_back <= {T}
  UNION ALL
  SELECT t.id, t.t_nc, 63, 'close_not_collected', 'arrived', 'closed', s.staff, '', '{{}}', true, 0
  FROM bench_t t JOIN bench_staff s ON s.branch = t.branch_id WHERE t.t_nc <= {T}
) e;
"""
)

EVENT_ROWS = """
INSERT INTO ill_requestevent (id, request_id, action, from_status, to_status, actor_id, note, data, visible_to_patron,
    created_at)
SELECT event_id, request_id, action, from_s, to_s, actor, note, data, visible, pg_temp.ts(at)
FROM bench_ev WHERE event_id > {lo} AND event_id <= {hi}
"""

# The e-mails (ill.notices.notify_patron and the reminder jobs), one row per message with what its
# variant and its format() arguments need. All were sent: a failed or long-waiting message makes
# /health/ answer 503 (notifications.health), which a running installation does not live with.
MESSAGES = """
CREATE UNLOGGED TABLE bench_msg AS
WITH src AS (
  SELECT ev.request_id, ev.event_id, ev.at,
      CASE ev.action WHEN 'submit' THEN 'received' WHEN 'reject' THEN 'rejected' WHEN 'cancel' THEN 'cancelled'
          WHEN 'order' THEN 'ordered' WHEN 'close_unfilled' THEN 'unfilled' WHEN 'close_not_needed' THEN 'unfilled'
          WHEN 'record_arrival' THEN CASE WHEN t.state0 = 'awaiting' THEN 'charge_acceptance' ELSE 'arrived' END
          WHEN 'charge_accepted' THEN 'arrived' ELSE ev.action END AS kind,
      ev.pos, NULL::int AS reminder, NULL::date AS d1
  FROM bench_ev ev LEFT JOIN bench_t t ON t.id = ev.request_id
  WHERE ev.action IN ('submit', 'reject', 'cancel', 'order', 'close_unfilled', 'close_not_needed', 'record_arrival',
                      'charge_accepted', 'extension_granted', 'extension_refused')
  UNION ALL
  SELECT t.id, NULL, pg_temp.at(d.due - 3, 9), 'due_soon', 0, NULL, d.due
  FROM bench_t t
  CROSS JOIN LATERAL (VALUES (t.due0, NOT (t.ext AND t.ext_granted) OR t.t_ext_dec > pg_temp.at(t.due0 - 3, 9)),
                             (t.due_eff, t.ext AND t.ext_granted AND t.due_eff <> t.due0)) AS d(due, applies)
  WHERE t.kind = 'loan' AND d.applies AND t.t_hand <= pg_temp.at(d.due - 3, 9) AND t.t_ret > pg_temp.at(d.due - 3, 9)
    AND pg_temp.at(d.due - 3, 9) <= {T}
  UNION ALL
  SELECT t.id, NULL, pg_temp.at(t.due_eff + 1 + 7 * (m - 1), 9 + 5 / 60.0), 'overdue', 0, m, t.due_eff
  FROM bench_t t CROSS JOIN generate_series(1, 8) m
  WHERE t.kind = 'loan' AND t.t_ret > pg_temp.at(t.due_eff + 1 + 7 * (m - 1), 9 + 5 / 60.0)
    AND pg_temp.at(t.due_eff + 1 + 7 * (m - 1), 9 + 5 / 60.0) <= {T}
  UNION ALL
  SELECT t.id, NULL, pg_temp.at(pg_temp.ldate(t.t_arr_raw) + 14, 9 + 10 / 60.0), 'not_collected', 0, NULL,
      CASE WHEN t.kind = 'loan' THEN least(pg_temp.ldate(t.t_arr_raw) + 21, t.due0)
           ELSE pg_temp.ldate(t.t_arr_raw) + 21 END
  FROM bench_t t
  WHERE t.t_arr_raw <= {T} AND coalesce(t.t_hand, t.t_nc) > pg_temp.at(pg_temp.ldate(t.t_arr_raw) + 14, 9 + 10 / 60.0)
    AND pg_temp.at(pg_temp.ldate(t.t_arr_raw) + 14, 9 + 10 / 60.0) <= {T}
)
SELECT s.request_id, s.at + 0.01 AS at, s.kind,
    CASE s.kind WHEN 'due_soon' THEN 'due_soon:' || s.request_id || ':' || s.d1
         WHEN 'overdue' THEN 'overdue:' || s.request_id || ':' || s.d1 || ':' || s.reminder
         WHEN 'not_collected' THEN 'not_collected:' || s.request_id
         ELSE s.kind || ':event:' || s.event_id END AS key,
    r.email, r.user_id, r.language,
    concat_ws('|', s.kind, r.language, r.branch_id, r.kind,
        CASE WHEN s.kind IN ('received', 'ordered', 'rejected', 'cancelled', 'unfilled') THEN ''
             ELSE coalesce(t.payer, '') END,
        CASE WHEN s.kind IN ('arrived', 'not_collected') AND t.cash > 0 THEN '1' ELSE '0' END,
        CASE WHEN r.kind = 'loan' AND s.kind IN ('arrived', 'due_soon', 'overdue', 'extension_granted',
                                                  'extension_refused')
             THEN CASE WHEN t.payer IN ('public', 'grant') THEN 'barcode'
                       WHEN t.payer = 'private' AND t.rp > 0 THEN 'stamps' ELSE '' END
             ELSE '' END,
        CASE WHEN s.kind = 'arrived' AND t.campus THEN '1' ELSE '0' END,
        CASE WHEN s.kind = 'ordered' THEN c.ship ELSE '' END,
        CASE WHEN s.kind = 'ordered' AND NOT c.domestic THEN '0' ELSE '1' END,
        CASE WHEN s.kind = 'rejected' THEN r.reject_reason ELSE '' END,
        CASE WHEN s.kind = 'unfilled' AND r.nn THEN '1' ELSE '0' END,
        coalesce(s.reminder::text, ''),
        CASE WHEN s.kind = 'charge_acceptance' THEN 'awaiting'
             WHEN s.kind = 'arrived' THEN CASE WHEN t.cash > 0 THEN 'due' ELSE 'settled' END
             WHEN s.kind = 'not_collected' THEN CASE WHEN t.state0 = 'awaiting' THEN 'awaiting'
                                                     WHEN t.cash > 0 THEN 'due' ELSE 'settled' END
             ELSE '' END) AS variant,
    CASE WHEN s.kind IN ('due_soon', 'overdue') THEN s.d1
         WHEN s.kind = 'extension_granted' THEN t.due_eff
         WHEN s.kind = 'unfilled' AND r.nn THEN r.nna
         WHEN r.kind = 'loan' THEN t.due0 END AS d0,
    CASE WHEN s.kind = 'not_collected' THEN s.d1 END AS d1,
    t.total, t.cash, t.rp, r.max_cost, bc.code, r.lab_idx,
    req.number, CASE WHEN req.article_title <> '' THEN req.article_title ELSE req.title END AS dtitle, req.title,
    req.volume, req.issue, req.pages, pat.full_name
FROM src s JOIN bench_r r ON r.id = s.request_id LEFT JOIN bench_t t ON t.id = s.request_id
JOIN ill_request req ON req.id = s.request_id JOIN patrons_patron pat ON pat.id = r.patron_id
LEFT JOIN bench_c c ON c.request_id = s.request_id AND c.position = s.pos
LEFT JOIN fees_budgetcode bc ON bc.id = r.code_id;
"""

OUTBOX = """
INSERT INTO notifications_outboxmessage (kind, idempotency_key, request_id, recipient, recipient_user_id, language,
    subject, body_text, body_html, status, attempts, last_error, created_at, claimed_at, next_attempt_at, sent_at)
SELECT m.kind, m.key, m.request_id, m.email, m.user_id, m.language,
    left(format(tpl.subject, VARIADIC a.args), 300), format(tpl.body_text, VARIADIC a.args),
    format(tpl.body_html, VARIADIC a.args),
    'sent', 1, '', pg_temp.ts(m.at), pg_temp.ts(m.at + 0.2), pg_temp.ts(m.at),
    pg_temp.ts(m.at + 0.5 + 2 * pg_temp.u(hashtext(m.key), 120))
FROM bench_msg m
JOIN bench_mail tpl ON tpl.variant = m.variant
LEFT JOIN bench_datefmt d0 ON d0.d = m.d0 AND d0.lang = m.language
LEFT JOIN bench_datefmt d1 ON d1.d = m.d1 AND d1.lang = m.language
LEFT JOIN patrons_laboratory lab ON lab.id = {lab0} + m.lab_idx + 1
CROSS JOIN LATERAL (SELECT ARRAY[m.number, m.dtitle, m.title, m.volume, m.issue, m.pages, m.full_name, m.code,
    CASE WHEN m.language = 'en' THEN lab.name_en ELSE lab.name END,
    pg_temp.yen(m.total), pg_temp.yen(m.cash), pg_temp.yen(m.rp), pg_temp.yen(m.max_cost),
    d0.f1, d0.f2, d0.f3, m.d0::text, d1.f1, d1.f2, d1.f3, m.d1::text]::text[] AS args) a
WHERE m.at > {lo} AND m.at <= {hi}
ORDER BY m.at
"""

# --- the finishing touches ------------------------------------------------------------------

FINISH = """
INSERT INTO ill_requestnumbercounter (year, last)
SELECT substr(number, 5, 4)::int, max(substr(number, 10)::int) FROM ill_request GROUP BY 1
ON CONFLICT (year) DO UPDATE SET last = greatest(ill_requestnumbercounter.last, EXCLUDED.last);

-- Limits that the history never overspent: half as much again as a code used, at least 50,000 yen;
-- some codes (and the benchmark lab's) have no limit.
UPDATE fees_budgetcode b SET "limit" = CASE WHEN pg_temp.u(b.id, 130) < 0.3 OR b.laboratory_id = {lab0} + 1 THEN NULL
    ELSE greatest(50000, ceil(coalesce(u.used, 0) * 1.5 / 10000) * 10000) END
FROM (SELECT bc.id, sum(e.amount) AS used FROM fees_budgetcode bc
      LEFT JOIN fees_budgetledgerentry e ON e.budget_code_id = bc.id GROUP BY bc.id) u
WHERE u.id = b.id AND b.id > {bc0};

-- The support budget of each year is half as much again as was spent and held (never closed, no alert).
UPDATE fees_supportbudget s SET total = greatest(s.total, ceil(coalesce(u.used, 0) * 1.6 / 100000) * 100000)
FROM (SELECT sb.id, sum(su.amount) AS used FROM fees_supportbudget sb
      LEFT JOIN fees_supportuse su ON su.budget_id = sb.id AND su.state IN ('charged', 'reserved') GROUP BY sb.id) u
WHERE u.id = s.id;
"""

OPEN_COUNTS = """
SELECT status, count(*) FROM ill_request WHERE status NOT IN ('closed', 'handed_over', 'rejected', 'cancelled')
GROUP BY status
UNION ALL SELECT 'submitted, checked (to order)', count(*) FROM ill_request WHERE status = 'submitted'
    AND reviewed_at IS NOT NULL
UNION ALL SELECT 'arrived, patron notified', count(*) FROM ill_request WHERE status = 'arrived'
    AND notified_at IS NOT NULL
UNION ALL SELECT 'on loan, overdue', count(*) FROM ill_request WHERE status = 'on_loan' AND due_date < {today}
UNION ALL SELECT 'extensions open', count(*) FROM ill_extensionrequest WHERE state IN ('requested', 'forwarded')
"""

CHECKS = {
    "patrons with more than 5 active loans": """
        SELECT count(*) FROM (SELECT patron_id FROM ill_request WHERE kind = 'loan'
        AND status IN ('submitted', 'ordered', 'unfilled', 'arrived', 'on_loan') GROUP BY patron_id
        HAVING count(*) > 5) x""",
    "budget codes overspent": """
        SELECT count(*) FROM fees_budgetcode b JOIN (SELECT budget_code_id, sum(amount) AS used
        FROM fees_budgetledgerentry GROUP BY 1) u ON u.budget_code_id = b.id WHERE b."limit" < u.used""",
    "requests whose status differs from their last transition": """
        SELECT count(*) FROM ill_request r JOIN LATERAL (SELECT to_status FROM ill_requestevent e
        WHERE e.request_id = r.id ORDER BY created_at DESC, id DESC LIMIT 1) e ON true WHERE e.to_status <> r.status""",
    "arrived requests without a charge": """
        SELECT count(*) FROM ill_request r WHERE r.arrived_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM fees_charge c WHERE c.request_id = r.id)""",
    "shipments whose total is not the sum of their charges": """
        SELECT count(*) FROM fees_shipment s JOIN (SELECT shipment_id, sum(total) AS t FROM fees_charge GROUP BY 1) c
        ON c.shipment_id = s.id WHERE c.t <> s.total""",
    "charges whose lines do not add up": """
        SELECT count(*) FROM fees_charge c JOIN (SELECT charge_id, sum(amount) AS t FROM fees_chargeline GROUP BY 1) l
        ON l.charge_id = c.id WHERE l.t <> c.computed_total""",
}
