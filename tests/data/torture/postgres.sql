-- Torture database for PostgreSQL (issue 15, "How to prove it"): every type and schema shape production
-- databases hold, in three schemas (public, hr, sales) with cross-schema foreign keys. Deterministic: no
-- random(), no now(); a few hundred rows per table at most. Load with load.sh postgres DBNAME.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;  -- gen_random_uuid() is built in from 13; harmless before

CREATE SCHEMA hr;
CREATE SCHEMA sales;
COMMENT ON SCHEMA hr IS 'staff and stores (a NOT NULL foreign-key cycle)';

-- ---- user-defined types --------------------------------------------------------------------------------
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN country_code AS character(2) CHECK (VALUE ~ '^[A-Z]{2}$');
CREATE TYPE address AS (street text, city text, zip character(5));

-- ---- numbers ---------------------------------------------------------------------------------------------
CREATE TABLE public.t_numeric (
    id integer GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_t_numeric PRIMARY KEY,
    n30 numeric(30,10) NOT NULL,
    n1000 numeric(1000,500),
    n_free numeric,
    amount money NOT NULL,
    f8 double precision,
    f4 real,
    i8 bigint NOT NULL,
    i2 smallint NOT NULL,
    i4 integer,
    flag boolean NOT NULL,
    price numeric(10,2) NOT NULL,
    qty integer NOT NULL,
    total numeric(14,2) GENERATED ALWAYS AS (price * qty) STORED,
    CONSTRAINT ck_t_numeric_qty CHECK (qty BETWEEN 1 AND 1000)
);
COMMENT ON TABLE public.t_numeric IS 'numbers at the edges of their types';
COMMENT ON COLUMN public.t_numeric.n1000 IS 'numeric(1000,500): wider than a float';
INSERT INTO public.t_numeric (n30, n1000, n_free, amount, f8, f4, i8, i2, i4, flag, price, qty)
SELECT
    (g * 12345.6789012345)::numeric(30,10) + 10::numeric ^ 19,
    CASE WHEN g % 7 = 0 THEN NULL ELSE ('0.' || repeat(lpad(g::text, 3, '0'), 160))::numeric * 10::numeric ^ 490 END,
    CASE g % 4 WHEN 0 THEN 1e-40 * g WHEN 1 THEN 1e40 * g WHEN 2 THEN g / 3.0 ELSE -g END,
    (g * 1.25)::numeric::money,
    CASE g WHEN 1 THEN 'NaN'::float8 WHEN 2 THEN 'Infinity' WHEN 3 THEN '-Infinity' WHEN 4 THEN 1.7976931348623157e308
           WHEN 5 THEN 5e-324 WHEN 6 THEN -0.0 ELSE g * 0.1 END,
    CASE g WHEN 1 THEN 'NaN'::float4 WHEN 2 THEN 'Infinity' WHEN 3 THEN '-Infinity' ELSE g * 0.5 END,
    CASE g WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 WHEN 3 THEN 9223372036854775806
           ELSE g::bigint * 1000000007 END,
    CASE g WHEN 1 THEN -32768 WHEN 2 THEN 32767 ELSE g % 300 END,
    CASE g WHEN 1 THEN -2147483648 WHEN 2 THEN 2147483647 WHEN 9 THEN NULL ELSE g END,
    g % 3 = 0,
    round((g % 97) * 1.37 + 0.5, 2),
    1 + g % 20
FROM generate_series(1, 200) AS g;

-- ---- dates and times -------------------------------------------------------------------------------------
CREATE TABLE public.t_time (
    id integer CONSTRAINT pk_t_time PRIMARY KEY,
    d date NOT NULL,
    ts timestamp(6) without time zone NOT NULL,
    tstz timestamp with time zone,
    t time(6),
    ttz time with time zone,
    iv interval,
    iv_nn interval NOT NULL,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    CONSTRAINT ck_t_time_order CHECK (ends_on >= starts_on)
);
INSERT INTO public.t_time
SELECT g,
    CASE g % 10 WHEN 0 THEN '9999-12-31'::date WHEN 1 THEN '0001-01-01' WHEN 2 THEN 'infinity' WHEN 3 THEN '-infinity'
                ELSE '2020-01-01'::date + g END,
    CASE g % 10 WHEN 0 THEN '9999-12-31 23:59:59.999999'::timestamp WHEN 1 THEN '0001-01-01 00:00:00'
                WHEN 2 THEN 'infinity' WHEN 3 THEN '-infinity'
                ELSE '2020-01-01 00:00:00'::timestamp + g * interval '1 hour 17 minutes 3.123456 seconds' END,
    CASE WHEN g % 9 = 0 THEN NULL ELSE '2021-06-01 12:00:00+00'::timestamptz + g * interval '37 minutes 0.25 seconds' END,
    CASE WHEN g % 11 = 0 THEN NULL ELSE time '00:00:00' + g * interval '7 minutes 1.000123 seconds' END,
    CASE WHEN g % 11 = 0 THEN NULL ELSE timetz '12:00:00+02' + g * interval '1 minute' END,
    CASE WHEN g % 8 = 0 THEN NULL ELSE g * interval '1 day 2 hours 3.5 seconds' + (g % 3) * interval '1 month' END,
    g * interval '15 minutes',
    '2020-01-01'::date + g,
    CASE WHEN g % 3 = 0 THEN '9999-01-01'::date ELSE '2020-01-01'::date + g + g % 30 END
FROM generate_series(1, 200) AS g;

-- ---- network, bits, ranges, arrays, documents, binary ----------------------------------------------------
CREATE TABLE public.t_misc (
    id integer CONSTRAINT pk_t_misc PRIMARY KEY,
    u uuid NOT NULL DEFAULT gen_random_uuid(),
    ip inet,
    net cidr,
    mac macaddr,
    b8 bit(8),
    vb bit varying(16),
    r4 int4range,
    rtz tstzrange,
    rd daterange,
    ai integer[],
    at text[],
    j json,
    jb jsonb NOT NULL,
    x xml,
    raw bytea,
    tsv tsvector,
    CONSTRAINT uq_t_misc_u UNIQUE (u)
);
INSERT INTO public.t_misc
SELECT g,
    ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
    CASE WHEN g % 2 = 0 THEN ('10.0.' || (g / 256) || '.' || (g % 256))::inet ELSE ('2001:db8::' || to_hex(g))::inet END,
    ('192.168.' || (g % 256) || '.0/24')::cidr,
    ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr,
    (g % 256)::bit(8),
    substring(((g * 37) % 65536)::bit(16)::text from 1 for 1 + g % 16)::varbit,
    CASE g % 5 WHEN 0 THEN 'empty'::int4range ELSE int4range(g, g + g % 17 + 1) END,
    tstzrange('2022-01-01 00:00+00'::timestamptz + g * interval '1 day', '2022-01-01 00:00+00'::timestamptz + (g + 3) * interval '1 day', '[)'),
    CASE WHEN g % 6 = 0 THEN daterange('2022-01-01'::date + g, NULL) ELSE daterange('2022-01-01'::date + g, '2022-02-01'::date + g) END,
    CASE WHEN g % 10 = 0 THEN '{}'::int[] ELSE ARRAY[g, g * 2, NULL, -g] END,
    ARRAY['a' || g, 'quote"' || g, 'comma,' || g],
    json_build_object('id', g, 'tags', json_build_array('x', g % 3), 'nested', json_build_object('ok', g % 2 = 0)),
    jsonb_build_object('k', g, 'v', repeat('z', g % 5), 'n', NULL),
    CASE WHEN g % 4 = 0 THEN NULL ELSE xmlelement(name item, xmlattributes(g AS id), 'value ' || g) END,
    CASE WHEN g % 9 = 0 THEN NULL ELSE decode(md5(g::text) || md5((g * 7)::text), 'hex') || '\x00ffe6'::bytea END,
    to_tsvector('simple', 'word' || g || ' shared token number ' || (g % 7))
FROM generate_series(1, 200) AS g;

-- ---- user-defined types, geometry, fixed-width text, long text -------------------------------------------
CREATE TABLE public.t_custom (
    id bigserial CONSTRAINT pk_t_custom PRIMARY KEY,
    feeling mood NOT NULL DEFAULT 'ok',
    pos positive_int NOT NULL,
    country country_code,
    home address,
    pt point,
    ci circle,
    pg polygon,
    c3 character(3) NOT NULL,
    code text NOT NULL,
    body text,
    CONSTRAINT uq_t_custom_code UNIQUE (code),
    CONSTRAINT ck_t_custom_code CHECK (code ~ '^[A-Z]{2}-[0-9]{4}$'),
    CONSTRAINT ck_t_custom_c3 CHECK (c3 LIKE 'C%')
);
CREATE INDEX ix_t_custom_feeling ON public.t_custom (feeling);
CREATE INDEX ix_t_custom_c3_pos ON public.t_custom (c3, pos DESC);
INSERT INTO public.t_custom (feeling, pos, country, home, pt, ci, pg, c3, code, body)
SELECT (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood,
    1 + g % 50,
    CASE WHEN g % 5 = 0 THEN NULL ELSE (ARRAY['US', 'DE', 'FR', 'JP'])[1 + g % 4] END,
    ROW(g || ' Main St', (ARRAY['Paris', 'Oslo', 'Lima'])[1 + g % 3], lpad(g::text, 5, '0'))::address,
    point(g * 0.5, -g * 0.25),
    circle(point(g, g), 1 + g % 4),
    polygon(path(('((0,0),(' || g || ',0),(' || g || ',' || g || '))')::path)),
    'C' || lpad((g % 99)::text, 2, '0'),  -- character(3): padded when shorter
    chr(65 + g % 26) || chr(65 + (g / 26) % 26) || '-' || lpad(g::text, 4, '0'),
    CASE WHEN g = 1 THEN repeat('long text ', 10240) WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END
FROM generate_series(1, 150) AS g;
ALTER TABLE public.t_custom ALTER COLUMN c3 TYPE character(3);
INSERT INTO public.t_custom (feeling, pos, c3, code) VALUES ('sad', 1, 'C', 'ZZ-9999');  -- 'C  ' padded

-- ---- an explicit sequence and a partitioned table --------------------------------------------------------
CREATE SEQUENCE public.ticket_no_seq START 1000 INCREMENT 10;
CREATE TABLE public.events (
    event_id integer NOT NULL DEFAULT nextval('public.ticket_no_seq'),
    created_on date NOT NULL,
    kind text NOT NULL CONSTRAINT ck_events_kind CHECK (kind IN ('open', 'close', 'retry')),
    payload jsonb,
    CONSTRAINT pk_events PRIMARY KEY (event_id, created_on)
) PARTITION BY RANGE (created_on);
CREATE TABLE public.events_2023 PARTITION OF public.events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO public.events (created_on, kind, payload)
SELECT '2023-06-01'::date + g * 2, (ARRAY['open', 'close', 'retry'])[1 + g % 3], jsonb_build_object('n', g)
FROM generate_series(1, 200) AS g;

-- ---- a region table other schemas refer to ---------------------------------------------------------------
CREATE TABLE public.region (
    region_code character(3) CONSTRAINT pk_region PRIMARY KEY,
    name text NOT NULL CONSTRAINT uq_region_name UNIQUE
);
INSERT INTO public.region VALUES ('EUR', 'Europe'), ('AME', 'Americas'), ('ASI', 'Asia'), ('AFR', 'Africa');

-- ---- a SMALLINT foreign key to an INTEGER key (MariaDB targets refuse the mismatch: error 1005) ---------
CREATE TABLE public.category (
    category_id integer CONSTRAINT pk_category PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO public.category SELECT g, 'Category ' || g FROM generate_series(1, 12) AS g;
CREATE TABLE public.item (
    item_id integer CONSTRAINT pk_item PRIMARY KEY,
    category_id smallint NOT NULL CONSTRAINT fk_item_category REFERENCES public.category (category_id),
    label character varying(20) NOT NULL
);
INSERT INTO public.item SELECT g, 1 + g % 12, 'item ' || g FROM generate_series(1, 100) AS g;

-- ---- hr: a NOT NULL foreign-key cycle, a self-reference, marker dates ------------------------------------
CREATE TABLE hr.store (
    store_id integer GENERATED BY DEFAULT AS IDENTITY CONSTRAINT pk_store PRIMARY KEY,
    manager_staff_id integer NOT NULL,
    region_code character(3) NOT NULL,
    opened_on date NOT NULL
);
CREATE TABLE hr.staff (
    staff_id integer GENERATED BY DEFAULT AS IDENTITY CONSTRAINT pk_staff PRIMARY KEY,
    store_id integer NOT NULL,
    reports_to integer,
    email text NOT NULL CONSTRAINT uq_staff_email UNIQUE,
    hired_at timestamp(3) NOT NULL,
    salary numeric(12,2) NOT NULL CONSTRAINT ck_staff_salary CHECK (salary > 0)
);
ALTER TABLE hr.store ADD CONSTRAINT fk_store_manager FOREIGN KEY (manager_staff_id) REFERENCES hr.staff (staff_id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE hr.store ADD CONSTRAINT fk_store_region FOREIGN KEY (region_code) REFERENCES public.region (region_code);
ALTER TABLE hr.staff ADD CONSTRAINT fk_staff_store FOREIGN KEY (store_id) REFERENCES hr.store (store_id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE hr.staff ADD CONSTRAINT fk_staff_reports_to FOREIGN KEY (reports_to) REFERENCES hr.staff (staff_id);
CREATE INDEX ix_staff_store ON hr.staff (store_id);
COMMENT ON COLUMN hr.store.manager_staff_id IS 'the manager works at this store';
BEGIN;
INSERT INTO hr.store (store_id, manager_staff_id, region_code, opened_on)
SELECT s, (s - 1) * 10 + 1, (ARRAY['EUR', 'AME', 'ASI', 'AFR'])[1 + s % 4], '2010-01-01'::date + s * 100
FROM generate_series(1, 8) AS s;
INSERT INTO hr.staff (staff_id, store_id, reports_to, email, hired_at, salary)
SELECT g, 1 + (g - 1) / 10, CASE WHEN (g - 1) % 10 = 0 THEN NULL ELSE (g - 1) / 10 * 10 + 1 END,
    'staff' || g || '@example.com', '2015-03-01 08:00:00'::timestamp + g * interval '3 days 1.125 seconds',
    30000 + g * 137.5
FROM generate_series(1, 80) AS g;
COMMIT;
SELECT setval(pg_get_serial_sequence('hr.store', 'store_id'), 8);
SELECT setval(pg_get_serial_sequence('hr.staff', 'staff_id'), 80);

CREATE TABLE hr.staff_history (
    staff_id integer NOT NULL CONSTRAINT fk_history_staff REFERENCES hr.staff (staff_id),
    from_date date NOT NULL,
    to_date date NOT NULL,
    title text NOT NULL,
    CONSTRAINT pk_staff_history PRIMARY KEY (staff_id, from_date),
    CONSTRAINT ck_history_dates CHECK (to_date > from_date)
);
INSERT INTO hr.staff_history
SELECT s, '2015-01-01'::date + k * 365, CASE WHEN k = 2 THEN '9999-01-01'::date ELSE '2015-01-01'::date + (k + 1) * 365 END,
    (ARRAY['Clerk', 'Senior Clerk', 'Lead'])[1 + k]
FROM generate_series(1, 80) AS s, generate_series(0, 2) AS k;

-- ---- sales: composite text keys, CHECKs over two columns, cross-schema FKs -------------------------------
CREATE TABLE sales.product (
    product_code text NOT NULL,
    variant character(2) NOT NULL,
    title text NOT NULL,
    status text NOT NULL CONSTRAINT ck_product_status CHECK (status IN ('active', 'retired', 'draft')),
    list_price numeric(10,2) NOT NULL CONSTRAINT ck_product_price CHECK (list_price >= 0 AND list_price < 100000),
    CONSTRAINT pk_product PRIMARY KEY (product_code, variant),
    CONSTRAINT ck_product_code CHECK (product_code ~ '^[A-Z]{2}-[0-9]{2}$')
);
COMMENT ON TABLE sales.product IS 'codes like AB-12, variants like XL';
INSERT INTO sales.product
SELECT chr(65 + p % 26) || chr(65 + (p * 7) % 26) || '-' || lpad((p % 100)::text, 2, '0'), v,
    'Product ' || p || ' ' || v, (ARRAY['active', 'active', 'retired', 'draft'])[1 + p % 4], 5 + p * 3.25
FROM generate_series(1, 60) AS p, unnest(ARRAY['SM', 'XL']) AS v;

CREATE TABLE sales.orders (
    order_id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_orders PRIMARY KEY,
    store_id integer NOT NULL CONSTRAINT fk_orders_store REFERENCES hr.store (store_id),
    staff_id integer NOT NULL CONSTRAINT fk_orders_staff REFERENCES hr.staff (staff_id),
    region_code character(3) CONSTRAINT fk_orders_region REFERENCES public.region (region_code),
    ordered_at timestamp(6) NOT NULL,
    shipped_at timestamp(6),
    discount numeric(8,2) NOT NULL DEFAULT 0,
    items integer NOT NULL,
    CONSTRAINT ck_orders_shipped CHECK (shipped_at IS NULL OR shipped_at >= ordered_at),
    CONSTRAINT ck_orders_discount CHECK (discount <= items * 10)
);
CREATE INDEX ix_orders_ordered_at ON sales.orders (ordered_at);
INSERT INTO sales.orders (store_id, staff_id, region_code, ordered_at, shipped_at, discount, items)
SELECT 1 + g % 8, 1 + (g % 8) * 10 + g % 10, CASE WHEN g % 5 = 0 THEN NULL ELSE (ARRAY['EUR', 'AME', 'ASI', 'AFR'])[1 + g % 4] END,
    '2023-01-01 09:00:00'::timestamp + g * interval '5 hours 0.000001 seconds',
    CASE WHEN g % 6 = 0 THEN NULL ELSE '2023-01-01 09:00:00'::timestamp + g * interval '5 hours' + interval '2 days 0.5 seconds' END,
    (g % 4) * 2.5, 1 + g % 9
FROM generate_series(1, 300) AS g;

CREATE TABLE sales.order_line (
    order_id bigint NOT NULL CONSTRAINT fk_line_order REFERENCES sales.orders (order_id) ON DELETE CASCADE,
    line_no smallint NOT NULL,
    product_code text NOT NULL,
    variant character(2) NOT NULL,
    quantity integer NOT NULL CONSTRAINT ck_line_qty CHECK (quantity > 0),
    CONSTRAINT pk_order_line PRIMARY KEY (order_id, line_no),
    CONSTRAINT fk_line_product FOREIGN KEY (product_code, variant) REFERENCES sales.product (product_code, variant)
);
CREATE INDEX ix_line_product ON sales.order_line (product_code, variant);
INSERT INTO sales.order_line
SELECT o, l, chr(65 + ((o + l) % 60 + 1) % 26) || chr(65 + (((o + l) % 60 + 1) * 7) % 26) || '-' || lpad((((o + l) % 60 + 1) % 100)::text, 2, '0'),
    (ARRAY['SM', 'XL'])[1 + (o + l) % 2], 1 + (o * l) % 5
FROM generate_series(1, 300) AS o, generate_series(1, 1 + o % 3) AS l;

ANALYZE;
