import { etaRenderer } from "../../../plugins/eta/index.ts";
import { injectionSuite } from "../../support/injection.ts";

injectionSuite("eta", etaRenderer(), {
  json: '{"name": <%= json(it.customer.name) %>, "n": 1}',
  xml: '<c><n><%= xml(it.customer.name) %></n><a x="<%= xml(it.customer.name) %>"/></c>',
  raw: "<%= it.customer.name %>",
});
