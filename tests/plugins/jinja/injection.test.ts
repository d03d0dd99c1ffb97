import { jinjaRenderer } from "../../../plugins/jinja/index.ts";
import { injectionSuite } from "../../support/injection.ts";

injectionSuite("jinja", jinjaRenderer(), {
  json: '{"name": {{ customer.name | tojson }}, "n": 1}',
  xml: '<c><n>{{ customer.name | e }}</n><a x="{{ customer.name | escape }}"/></c>',
  raw: "{{ customer.name }}",
});
