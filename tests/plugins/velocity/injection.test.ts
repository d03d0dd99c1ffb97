import { velocityRenderer } from "../../../plugins/velocity/index.ts";
import { injectionSuite } from "../../support/injection.ts";

injectionSuite("velocity", velocityRenderer(), {
  json: '{"name": $esc.json($customer.name), "n": 1}',
  xml: '<c><n>$esc.xml($customer.name)</n><a x="$esc.xml($customer.name)"/></c>',
  raw: "$customer.name",
});
